/// The `Datasets` module: dataset adapters for the real on-disk layouts, stratified seeded
/// splits, and the loader that turns files into NHWC batches. See README.md, "Targets".
import Engine
import Imaging
