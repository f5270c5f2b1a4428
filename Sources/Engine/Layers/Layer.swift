/// A module of a network: a forward computation, its backward, and the parameters it owns.
///
/// Layers are classes: forward caches what backward needs (its input, or its output), so
/// `backward` must follow the `forward` whose gradient it computes. Containers
/// (``Sequential``, ``Residual``) expose their sub-layers as `children`, which gives every
/// parameter a dotted name and lets mode changes and freezing reach the whole tree.
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let model = Sequential([
///   Conv2D(inChannels: 3, outChannels: 8, kernel: 3, padding: .symmetric(1), rng: &rng),
///   Activation(.relu), GlobalAvgPool(), Linear(inFeatures: 8, outFeatures: 2, rng: &rng),
/// ])
/// let logits = try model(images)              // images: [N, H, W, 3]
/// _ = model.backward(dLogits, needsInputGradient: false)
/// ```
public protocol Layer: AnyObject {
  /// Training mode (batch statistics, dropout on) or evaluation mode. Set it for a whole
  /// tree with ``Layer/setTraining(_:)``.
  var isTraining: Bool { get set }
  /// The parameters this layer owns directly (not those of its children).
  var parameters: [Parameter] { get }
  /// Named sub-layers, in order.
  var children: [(name: String, layer: any Layer)] { get }

  /// Computes the output and caches what ``backward(_:needsInputGradient:)`` needs.
  ///
  /// - Throws: ``ShapeError`` when `input` does not have a shape this layer takes.
  func forward(_ input: Tensor) throws -> Tensor

  /// Accumulates the gradients of trainable parameters from the output gradient `dY`
  /// and returns the input gradient, or `nil` when `needsInputGradient` is false.
  func backward(_ dY: Tensor, needsInputGradient: Bool) -> Tensor?
}

/// A layer whose training draws random numbers (dropout). Its generator restarts at every
/// epoch from its seed and the epoch, so the draws of an epoch do not depend on whether
/// the epochs before it ran in this process: a run resumed from a checkpoint continues
/// exactly as if it had not stopped.
public protocol EpochSeeded: Layer {
  func reseed(forEpoch epoch: Int)
}

extension Layer {
  /// A leaf layer has no children.
  public var children: [(name: String, layer: any Layer)] { [] }
  /// A layer without weights owns no parameters.
  public var parameters: [Parameter] { [] }

  /// Same as ``forward(_:)``.
  public func callAsFunction(_ input: Tensor) throws -> Tensor { try forward(input) }

  /// Every parameter of the tree with its dotted, PyTorch-style name (`0.weight`,
  /// `layer1.0.bn1.running_mean`), in definition order.
  public func namedParameters(prefix: String = "") -> [(name: String, parameter: Parameter)] {
    var result = parameters.map { (prefix + $0.name, $0) }
    for (name, child) in children {
      result += child.namedParameters(prefix: prefix + name + ".")
    }
    return result
  }

  /// The trainable weights of the tree, for an optimizer.
  public var trainableParameters: [Parameter] {
    namedParameters().map(\.parameter).filter(\.needsGradient)
  }

  /// True when some parameter in the tree is trainable, so backward must visit it.
  public var hasTrainableParameters: Bool {
    parameters.contains(where: \.needsGradient) || children.contains { $0.layer.hasTrainableParameters }
  }

  /// Restarts the random generator of every ``EpochSeeded`` layer of the tree for `epoch`.
  public func reseedRandomness(forEpoch epoch: Int) {
    (self as? any EpochSeeded)?.reseed(forEpoch: epoch)
    for (_, child) in children { child.reseedRandomness(forEpoch: epoch) }
  }

  /// Sets training or evaluation mode for this layer and every descendant.
  public func setTraining(_ training: Bool) {
    isTraining = training
    for (_, child) in children { child.setTraining(training) }
  }

  /// Makes every weight of the tree trainable (`true`) or frozen (`false`).
  public func setTrainable(_ trainable: Bool) {
    for (_, parameter) in namedParameters() where parameter.kind == .weight {
      parameter.isTrainable = trainable
    }
  }

  /// Clears the gradients of the whole tree.
  public func zeroGradients() {
    for (_, parameter) in namedParameters() { parameter.zeroGradient() }
  }

  /// Number of values in the weights (not buffers) of the tree.
  public var parameterCount: Int {
    namedParameters().filter { $0.parameter.kind == .weight }.reduce(0) { $0 + $1.parameter.value.count }
  }

  /// Replaces parameter values by name, checking each shape.
  ///
  /// - Throws: ``ShapeError`` for a shape mismatch; ``ParameterLoadError`` for a name the
  ///   model lacks, or (when `requireAll`) a model parameter the dictionary lacks.
  public func loadParameters(_ values: [String: Tensor], requireAll: Bool = true) throws {
    let named = Dictionary(uniqueKeysWithValues: namedParameters().map { ($0.name, $0.parameter) })
    if let unknown = values.keys.sorted().first(where: { named[$0] == nil }) {
      throw ParameterLoadError.unexpected(unknown)
    }
    if requireAll, let missing = named.keys.sorted().first(where: { values[$0] == nil }) {
      throw ParameterLoadError.missing(missing)
    }
    for (name, tensor) in values { try named[name]!.assign(tensor, as: name) }
  }
}

/// A parameter dictionary does not match a model's parameter names.
public enum ParameterLoadError: Error, Equatable, CustomStringConvertible {
  /// The dictionary has a name the model lacks.
  case unexpected(String)
  /// The model has a parameter the dictionary lacks.
  case missing(String)

  public var description: String {
    switch self {
    case .unexpected(let name): return "unexpected parameter \(name): the model has no such parameter"
    case .missing(let name): return "missing parameter \(name)"
    }
  }
}

/// Checks an input's rank and, where given, its last dimension, throwing a ``ShapeError``
/// that names the layer.
func checkInput(
  _ input: Tensor, of layer: String, rank: Int, lastDimension: Int?, letters: String
) throws {
  if input.rank != rank || (lastDimension != nil && input.shape.last != lastDimension) {
    throw ShapeError(context: "\(layer) input", expected: letters, actual: input.shape)
  }
}
