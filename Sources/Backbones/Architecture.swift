import Engine

/// A network as built by one of the architecture functions (``ResNet/make(_:widths:classes:rng:)``
/// and the others): the layers, where the classifier is, and the named stages.
public struct Architecture {
  /// The whole network, input `[N, H, W, 3]` to logits `[N, classes]`; its parameter names
  /// are the checkpoints' keys.
  public var network: Sequential
  /// Width of the features the final classifier reads.
  public var featureWidth: Int
  /// Dotted path of the final `Linear` (`fc`, `classifier.6`, `_fc`).
  public var classifierPath: String
  /// The stages from input to output, for freezing and unfreezing.
  public var stages: [Stage]
}

/// A named group of sub-layers that freezes and unfreezes together (`layer4`, `stage7`).
public struct Stage: Equatable, Sendable {
  public var name: String
  /// Dotted paths of the sub-layers in the network.
  public var paths: [String]

  public init(_ name: String, _ paths: [String]) {
    (self.name, self.paths) = (name, paths)
  }
}
