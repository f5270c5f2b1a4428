import Engine

/// VGG-16 with and without batch norm (Simonyan & Zisserman, "Very Deep Convolutional
/// Networks for Large-Scale Image Recognition", 2014), as torchvision builds it:
/// `features.N` (3×3 convolutions, [batch norm,] ReLU, 2×2 max-pools), a 7×7 adaptive
/// average pool, and `classifier.0/3/6` (two hidden dense layers with dropout).
/// Reference: torchvision/models/vgg.py (configuration "D").
public enum VGG {
  /// Convolutions per stage of VGG-16; each stage ends in a max-pool.
  static let convolutionsPerStage = [2, 2, 3, 3, 3]

  /// Builds the network. `widths` are the five stages' widths (64, 128, 256, 512, 512 in
  /// the published network); `hidden` the dense layers' width (4096).
  public static func make(
    batchNorm: Bool, widths: [Int] = [64, 128, 256, 512, 512], hidden: Int = 4096, classes: Int = 1000,
    rng: inout SeededGenerator
  ) -> Architecture {
    var features: [any Layer] = []
    var stagePaths: [[String]] = []
    var inChannels = 3
    for (width, count) in zip(widths, convolutionsPerStage) {
      var paths: [String] = []
      for _ in 0..<count {
        paths.append("features.\(features.count)")
        features.append(Conv2D(inChannels: inChannels, outChannels: width, kernel: 3, padding: .symmetric(1), rng: &rng))
        if batchNorm {
          paths.append("features.\(features.count)")
          features.append(BatchNorm(channels: width))
        }
        features.append(Activation(.relu))
        inChannels = width
      }
      features.append(MaxPool2D(kernel: 2))
      stagePaths.append(paths)
    }
    let first = Linear(inFeatures: inChannels * 49, outFeatures: hidden, rng: &rng)
    first.weight.pytorchLayout = .linearAfterFlatten(channels: inChannels, height: 7, width: 7)
    let classifier = Sequential([
      first, Activation(.relu), Dropout(0.5, seed: rng.next()),
      Linear(inFeatures: hidden, outFeatures: hidden, rng: &rng), Activation(.relu), Dropout(0.5, seed: rng.next()),
      Linear(inFeatures: hidden, outFeatures: classes, rng: &rng),
    ])
    let network = Sequential(named: [
      ("features", Sequential(features)), ("avgpool", AdaptiveAvgPool2D(outputSize: (7, 7))),
      ("flatten", Flatten()), ("classifier", classifier),
    ])
    let stages = stagePaths.enumerated().map { Stage("block\($0.offset + 1)", $0.element) }
    return Architecture(
      network: network, featureWidth: hidden, classifierPath: "classifier.6",
      stages: stages + [Stage("dense", ["classifier.0", "classifier.3"])])
  }
}
