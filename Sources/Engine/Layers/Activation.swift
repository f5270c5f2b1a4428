/// ReLU or ReLU6 as a layer. Caches its output, from which the gradient mask follows.
public final class Activation: Layer {
  public let kind: ClampActivation
  public var isTraining = true
  private var output: Tensor?

  /// Creates the activation `kind`.
  public init(_ kind: ClampActivation) { self.kind = kind }

  public func forward(_ input: Tensor) throws -> Tensor {
    var output = Tensor(uninitializedShape: input.shape)
    clampActivationForward(input.pointer, output.mutablePointer(), count: input.count, kind)
    record(output: output)
    return output
  }

  /// Keeps `output` for backward (when recording), as if this layer had computed it: the
  /// batch norm before it applied the activation in its own pass (``NormalizationActivationPair``).
  func record(output: Tensor) { self.output = GradientRecording.isEnabled ? output : nil }

  /// Drops what the last recorded forward kept, when a folded chain runs in its place.
  func discardRecording() { output = nil }

  public func backward(_ dY: Tensor, needsInputGradient: Bool) -> Tensor? {
    guard needsInputGradient else { return nil }
    var dX = Tensor(uninitializedShape: dY.shape)
    let y = recordedOutput(matching: dY)
    clampActivationBackward(y: y.pointer, dY: dY.pointer, dX: dX.mutablePointer(), count: dY.count, kind)
    return dX
  }

  /// The backward of `dY + addend`, written over `dY`: where two gradients of this layer's
  /// output are summed (a residual block's body and shortcut), the sum and the mask are one pass.
  func backward(summingInto dY: inout Tensor, _ addend: Tensor) {
    precondition(addend.shape == dY.shape, "Activation.backward: addend \(addend.shape) does not match dY \(dY.shape)")
    let y = recordedOutput(matching: dY)
    addClampActivationBackward(y: y.pointer, dX: dY.mutablePointer(), addend: addend.pointer, count: dY.count, kind)
  }

  private func recordedOutput(matching dY: Tensor) -> Tensor {
    guard let output else { preconditionFailure("Activation.backward called before forward") }
    precondition(dY.shape == output.shape, "Activation.backward: dY \(dY.shape) does not match output \(output.shape)")
    return output
  }
}

extension Activation {
  /// Child `index` as an `L` and the activation right after it, when the children there are those:
  /// what the passes that take an activation into the layer before it (``NormalizationActivationPair``,
  /// ``ConvolutionActivationPair``) pair.
  static func following<L>(_ type: L.Type, in children: [(name: String, layer: any Layer)], at index: Int) -> (L, Activation)? {
    guard index + 1 < children.count, let layer = children[index].layer as? L,
      let activation = children[index + 1].layer as? Activation
    else { return nil }
    return (layer, activation)
  }
}

/// Inverted dropout: in training mode each value is zeroed with probability `p` and the
/// rest scaled by `1 / (1 − p)`; identity in evaluation mode. The mask comes from the
/// layer's own seeded generator, restarted at every epoch from the seed and the epoch
/// (``EpochSeeded``), so runs with the same seed drop the same values, and a run resumed
/// at an epoch drops what it would have dropped without the interruption.
/// Reference: https://pytorch.org/docs/stable/generated/torch.nn.Dropout.html
public final class Dropout: Layer, EpochSeeded {
  public let probability: Float
  public var isTraining = true
  private let seed: UInt64
  private var rng: SeededGenerator
  private var mask: Tensor?

  /// Creates a dropout layer with drop probability `p` in `[0, 1)`.
  public init(_ p: Float, seed: UInt64) {
    precondition(p >= 0 && p < 1, "dropout probability must be in [0, 1), got \(p)")
    probability = p
    self.seed = seed
    rng = SeededGenerator(seed: seed)
  }

  public func reseed(forEpoch epoch: Int) {
    rng = SeededGenerator(seed: seed).derived("epoch \(epoch)")
  }

  public func forward(_ input: Tensor) throws -> Tensor {
    guard isTraining, probability > 0 else {
      mask = nil
      return input
    }
    let keep = 1 - probability, scale = 1 / (1 - probability)
    var mask = Tensor(uninitializedShape: input.shape)
    var output = Tensor(uninitializedShape: input.shape)
    let m = mask.mutablePointer(), y = output.mutablePointer(), x = input.pointer
    for i in 0..<input.count {
      m[i] = rng.nextUniform() < keep ? scale : 0
      y[i] = x[i] * m[i]
    }
    self.mask = mask
    return output
  }

  public func backward(_ dY: Tensor, needsInputGradient: Bool) -> Tensor? {
    guard needsInputGradient else { return nil }
    guard let mask else { return dY }
    var dX = Tensor(uninitializedShape: dY.shape)
    let d = dX.mutablePointer(), m = mask.pointer, g = dY.pointer
    for i in 0..<dY.count { d[i] = g[i] * m[i] }
    return dX
  }
}

/// Flattens `[N, ...]` to `[N, rest]`. On NHWC input the order is `(h, w, c)`, not
/// PyTorch's `(c, h, w)`: a checkpoint's first linear layer after a flatten has its
/// columns permuted at load.
public final class Flatten: Layer {
  public var isTraining = true
  private var inputShape: [Int]?

  public init() {}

  public func forward(_ input: Tensor) throws -> Tensor {
    guard input.rank >= 2 else {
      throw ShapeError(context: "Flatten input", expected: "[N, ...]", actual: input.shape)
    }
    inputShape = input.shape
    return input.reshaped([input.shape[0], input.count / max(input.shape[0], 1)])
  }

  public func backward(_ dY: Tensor, needsInputGradient: Bool) -> Tensor? {
    guard needsInputGradient, let inputShape else { return nil }
    return dY.reshaped(inputShape)
  }
}
