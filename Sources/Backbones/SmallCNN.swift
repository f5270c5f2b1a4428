import Engine

/// The seed benchmark's small CNN (the Keras blog "Building powerful image classification
/// models using very little data"): 3 × [3×3 convolution with 32, 32, 64 filters and
/// 'valid' padding, ReLU, 2×2 max-pool], flatten, dense 64, ReLU, dropout 0.5, classifier.
/// Names: `features.0/3/6`, `classifier.0/3`. Its dense layer fixes the input size.
public enum SmallCNN {
  /// The smallest input side its three valid convolutions and pools leave a pixel of.
  public static let minimumInputSize = 22

  /// Builds the network for square inputs of `inputSize` pixels (150 in the seed).
  public static func make(inputSize: Int = 150, classes: Int = 2, rng: inout SeededGenerator) -> Architecture {
    var side = inputSize
    for _ in 0..<3 { side = (side - 2) / 2 }
    precondition(side >= 1, "small_cnn needs inputs of at least \(minimumInputSize)×\(minimumInputSize) pixels, got \(inputSize)")
    let features = Sequential([
      Conv2D(inChannels: 3, outChannels: 32, kernel: 3, rng: &rng), Activation(.relu), MaxPool2D(kernel: 2),
      Conv2D(inChannels: 32, outChannels: 32, kernel: 3, rng: &rng), Activation(.relu), MaxPool2D(kernel: 2),
      Conv2D(inChannels: 32, outChannels: 64, kernel: 3, rng: &rng), Activation(.relu), MaxPool2D(kernel: 2),
    ])
    let classifier = Sequential([
      Linear(inFeatures: side * side * 64, outFeatures: 64, rng: &rng), Activation(.relu), Dropout(0.5, seed: rng.next()),
      Linear(inFeatures: 64, outFeatures: classes, rng: &rng),
    ])
    let network = Sequential(named: [("features", features), ("flatten", Flatten()), ("classifier", classifier)])
    return Architecture(
      network: network, featureWidth: 64, classifierPath: "classifier.3",
      stages: [Stage("block1", ["features.0"]), Stage("block2", ["features.3"]), Stage("block3", ["features.6"]),
               Stage("dense", ["classifier.0"])])
  }
}
