/// A named tensor a layer owns: a trainable weight with its gradient, or a buffer such as
/// batch norm's running mean that is saved and loaded but never optimised.
///
/// Names are local (`weight`, `bias`, `running_mean`); ``Layer/namedParameters()`` joins
/// them with the layer path into PyTorch-style keys (`layer1.0.conv1.weight`).
public final class Parameter {
  /// What the parameter is for.
  public enum Kind: Sendable { case weight, buffer }

  /// The local name (`weight`, `bias`, `running_var`, ...).
  public let name: String
  /// Whether an optimizer updates it.
  public let kind: Kind
  /// The current value.
  public var value: Tensor
  /// The accumulated gradient, the shape of `value`. Backward passes add to it;
  /// optimizers read it; ``zeroGradient()`` clears it.
  public var gradient: Tensor
  /// When false, backward passes leave `gradient` untouched and optimizers skip it.
  public var isTrainable: Bool
  /// Multiplies the optimizer's learning rate for this parameter (discriminative rates).
  public var learningRateScale: Float = 1

  /// Creates a parameter holding `value`, with a zero gradient.
  public init(_ name: String, _ value: Tensor, kind: Kind = .weight) {
    self.name = name
    self.kind = kind
    self.value = value
    gradient = Tensor(shape: kind == .weight ? value.shape : [0])
    isTrainable = kind == .weight
  }

  /// True when a backward pass should compute this parameter's gradient.
  public var needsGradient: Bool { kind == .weight && isTrainable }

  /// Sets the gradient to zero.
  public func zeroGradient() {
    guard kind == .weight else { return }
    gradient.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
  }

  /// Replaces the value with `tensor`, which must have the same shape.
  ///
  /// - Throws: ``ShapeError`` naming the parameter and both shapes.
  public func assign(_ tensor: Tensor, as qualifiedName: String? = nil) throws {
    guard tensor.shape == value.shape else {
      throw ShapeError(context: qualifiedName ?? name, expected: value.shape, actual: tensor.shape)
    }
    value = tensor
  }
}
