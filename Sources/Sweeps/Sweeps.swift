/// The `Sweeps` module: the YAML sweep spec, its expansion, the runner and resumption; it
/// writes results through a protocol it defines. See README.md, "Targets".
import Training
