import Engine

/// The trainable top of a backbone — from the first unfrozen stage to the logits — as a
/// layer whose input is the frozen part's output, flattened per image. Fine-tuning trains it
/// on cached activations of the frozen stages, so those run once per image instead of once
/// per image and epoch.
///
/// Its children are the backbone's own, so its parameters have the backbone's names and its
/// checkpoints load into the whole network. Backward stops at the first trainable layer, as
/// the whole network's would: the frozen layers it skipped in forward are never visited.
public final class BackboneTop: Layer {
  public let backbone: Backbone
  /// The first trainable stage.
  public let stage: String
  /// The stage whose output the input is (the last frozen one).
  public let inputStage: String
  /// `[H, W, C]` of the frozen part's output at the backbone's input size.
  public let inputShape: [Int]
  private let startPath: [String]

  /// The top of `backbone` from the stage after `inputStage`.
  ///
  /// - Throws: ``BackboneError`` when `inputStage` is unknown or the last stage, or a shape
  ///   error from the probe forward pass that measures the input shape.
  public init(_ backbone: Backbone, after inputStage: String) throws {
    guard let index = backbone.stages.firstIndex(where: { $0.name == inputStage }), index + 1 < backbone.stages.count,
      let first = backbone.stages[index + 1].paths.first
    else {
      throw BackboneError("\(backbone.name.rawValue) has no stage after \(inputStage) to train")
    }
    (self.backbone, self.inputStage, self.stage) = (backbone, inputStage, backbone.stages[index + 1].name)
    let path = first.split(separator: ".").map(String.init)
    startPath = path
    let side = backbone.preprocessing.inputSize
    let probe = try GradientRecording.withoutGradients {
      try Backbone.forward(Tensor(shape: [1, side, side, 3]), in: backbone.network, stoppingBefore: path)
    }
    inputShape = Array(probe.shape.dropFirst())
  }

  public var isTraining: Bool {
    get { backbone.network.isTraining }
    set { backbone.network.isTraining = newValue }
  }

  public var children: [(name: String, layer: any Layer)] { backbone.network.children }

  public func forward(_ input: Tensor) throws -> Tensor {
    let width = inputShape.reduce(1, *)
    guard input.rank == 2, input.shape[1] == width else {
      throw ShapeError(context: "\(backbone.name.rawValue) from \(stage)", expected: [input.shape.first ?? 0, width], actual: input.shape)
    }
    return try Backbone.forward(input.reshaped([input.shape[0]] + inputShape), in: backbone.network, startingAt: startPath)
  }

  public func backward(_ dY: Tensor, needsInputGradient: Bool) -> Tensor? {
    _ = backbone.network.backward(dY, needsInputGradient: false)
    return nil
  }
}
