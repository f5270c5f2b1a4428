/// The `Training` module: the scratch, features and fine-tune strategies, the trainer
/// loop and its events, metrics, the feature cache and checkpoints. See README.md, "Targets".
import Backbones
import Datasets
