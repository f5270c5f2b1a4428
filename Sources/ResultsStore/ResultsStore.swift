/// The `ResultsStore` module: the SQLite schema and migrations (GRDB) that keep every run,
/// epoch, prediction and artefact. See README.md, "Targets".
import GRDB
import Sweeps
