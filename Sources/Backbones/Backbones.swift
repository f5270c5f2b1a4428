/// The `Backbones` module: architectures built from `Engine` layers (small CNN, VGG,
/// ResNet, MobileNetV2, EfficientNet-Lite), their heads, freezing by named stage, and the
/// mapping from pretrained checkpoints' parameter names. See README.md, "Targets".
import Engine
