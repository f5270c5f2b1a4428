import Engine
import Foundation
import Imaging

/// A network ready for transfer learning: its layers with checkpoint-compatible names, its
/// preprocessing, its stages for freezing, and a replaceable classifier.
///
/// ```swift
/// let backbone = Backbone(.resnet18)
/// try backbone.loadPretrained(Checkpoint(contentsOf: weightsURL))
/// backbone.replaceClassifier(classes: 8, seed: 1)
/// backbone.freeze(allBut: 1)          // train layer4 and the new head
/// let logits = try backbone.network(images)
/// ```
public final class Backbone {
  public let name: BackboneName
  /// The whole network, input `[N, H, W, 3]` to logits `[N, classCount]`.
  public let network: Sequential
  /// Width of the features the classifier reads.
  public let featureWidth: Int
  /// Dotted path of the final `Linear`.
  public let classifierPath: String
  /// Input preprocessing the weights expect.
  public let preprocessing: Preprocessing
  /// Stages from input to output.
  public let stages: [Stage]
  /// Names of the stages currently frozen.
  public private(set) var frozenStages: Set<String> = []

  /// Builds the published architecture with seeded random weights.
  public convenience init(_ name: BackboneName, classes: Int = 1000, seed: UInt64 = 0) {
    var rng = SeededGenerator(seed: seed)
    self.init(name, architecture: name.architecture(classes: classes, rng: &rng), preprocessing: name.preprocessing)
  }

  /// Wraps an architecture built with non-default sizes (reduced widths in tests, another
  /// input size).
  public init(_ name: BackboneName, architecture: Architecture, preprocessing: Preprocessing) {
    self.name = name
    network = architecture.network
    featureWidth = architecture.featureWidth
    classifierPath = architecture.classifierPath
    stages = architecture.stages
    self.preprocessing = preprocessing
  }

  /// The final classifier.
  public var classifier: Linear {
    guard let layer = network.descendant(classifierPath) as? Linear else {
      preconditionFailure("\(name.rawValue) has no Linear at \(classifierPath)")
    }
    return layer
  }

  /// Number of classes the classifier predicts.
  public var classCount: Int { classifier.outFeatures }

  // MARK: - Weights

  /// Loads pretrained weights; with `includeClassifier` false the checkpoint's classifier
  /// (ImageNet's 1000 classes) is ignored and the current head kept.
  ///
  /// - Throws: ``ParameterLoadError`` or ``ShapeError`` naming the parameter.
  public func loadPretrained(_ checkpoint: Checkpoint, includeClassifier: Bool = true) throws {
    let prefix = classifierPath + "."
    try network.load(checkpoint, skip: { !includeClassifier && $0.hasPrefix(prefix) })
  }

  /// Replaces the classifier with a new `Linear` for `classes` classes, initialised as
  /// `initialization` says (uniform draws use `seed`).
  public func replaceClassifier(classes: Int, initialization: LinearInitialization = .uniform, seed: UInt64) {
    var rng = SeededGenerator(seed: seed)
    let head = Linear(inFeatures: featureWidth, outFeatures: classes, initialization: initialization, rng: &rng)
    let components = classifierPath.split(separator: ".")
    let parentPath = components.dropLast().joined(separator: ".")
    guard let parent = network.descendant(parentPath) as? Sequential else {
      preconditionFailure("\(name.rawValue): the parent of \(classifierPath) is not a Sequential")
    }
    parent.replace(String(components.last!), with: head)
  }

  // MARK: - Freezing

  /// Freezes every stage except the last `trainable` ones (the classifier always trains).
  /// Frozen stages keep their batch norms in evaluation mode, as PyTorch does with
  /// `requires_grad=False` plus `.eval()` on those modules.
  public func freeze(allBut trainable: Int) {
    let frozenCount = max(0, stages.count - trainable)
    frozenStages = Set(stages.prefix(frozenCount).map(\.name))
    for (index, stage) in stages.enumerated() {
      for path in stage.paths { network.descendant(path)?.setTrainable(index >= frozenCount) }
    }
    classifier.setTrainable(true)
    setTraining(network.isTraining)
  }

  /// Discriminative learning rates (fastai's `slice`, ULMFiT): the classifier keeps the
  /// optimizer's rate, the k-th stage below it (counting from the top, k = 1, 2, …) trains at
  /// `decay^k` times that rate; 1 gives every layer the same rate.
  ///
  /// - Precondition: `decay` is in (0, 1].
  public func setDiscriminativeRates(decay: Float) {
    precondition(decay > 0 && decay <= 1, "the learning-rate decay must be in (0, 1], got \(decay)")
    for (depth, stage) in stages.reversed().enumerated() {
      let scale = pow(decay, Float(depth + 1))
      for path in stage.paths {
        for (_, parameter) in network.descendant(path)?.namedParameters() ?? [] { parameter.learningRateScale = scale }
      }
    }
    for (_, parameter) in classifier.namedParameters() { parameter.learningRateScale = 1 }
  }

  /// Freezes every stage (a feature extractor with a trainable head).
  public func freezeTrunk() { freeze(allBut: 0) }

  /// Training or evaluation mode for the whole network, keeping frozen stages in evaluation.
  public func setTraining(_ training: Bool) {
    network.setTraining(training)
    for stage in stages where frozenStages.contains(stage.name) {
      for path in stage.paths { network.descendant(path)?.setTraining(false) }
    }
  }

  // MARK: - Features

  /// The features the classifier reads, `[N, featureWidth]`, for feature extraction.
  public func features(_ images: Tensor) throws -> Tensor {
    try Self.forward(images, in: network, stoppingBefore: classifierPath.split(separator: ".").map(String.init))
  }

  /// The "bottleneck" activations after the stage called `stageName` (including the
  /// activation and pooling that close it), flattened to `[N, H·W·C]`: Keras-style
  /// bottleneck features for a head. The last stage's output is ``features(_:)``.
  ///
  /// - Throws: ``BackboneError`` naming the stages when there is no such stage.
  public func activations(_ images: Tensor, after stageName: String) throws -> Tensor {
    guard let index = stages.firstIndex(where: { $0.name == stageName }) else {
      throw BackboneError("\(name.rawValue) has no stage \(stageName); its stages are \(stages.map(\.name).joined(separator: ", "))")
    }
    guard index + 1 < stages.count, let next = stages[index + 1].paths.first else { return try features(images) }
    let output = try Self.forward(images, in: network, stoppingBefore: next.split(separator: ".").map(String.init))
    return output.reshaped([output.shape[0], output.count / output.shape[0]])
  }

  /// Runs `container`'s layers up to (not including) the one at `path`.
  static func forward(_ x: Tensor, in container: Sequential, stoppingBefore path: [String]) throws -> Tensor {
    var x = x
    for (name, child) in container.children {
      if name == path[0] {
        guard path.count > 1, let nested = child as? Sequential else { return x }
        return try forward(x, in: nested, stoppingBefore: Array(path.dropFirst()))
      }
      x = try child.forward(x)
    }
    return x
  }

  /// Runs `container`'s layers from the one at `path` to the end.
  static func forward(_ x: Tensor, in container: Sequential, startingAt path: [String]) throws -> Tensor {
    var x = x, started = false
    for (name, child) in container.children {
      if !started {
        guard name == path[0] else { continue }
        started = true
        if path.count > 1, let nested = child as? Sequential {
          x = try forward(x, in: nested, startingAt: Array(path.dropFirst()))
          continue
        }
      }
      x = try child.forward(x)
    }
    return x
  }
}

/// A backbone asked for something it does not have: one line naming what it has.
public struct BackboneError: Error, CustomStringConvertible, Equatable {
  public var description: String
  public init(_ description: String) { self.description = description }
}
