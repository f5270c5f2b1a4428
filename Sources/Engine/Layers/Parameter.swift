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
  /// The current value. Every change moves ``version`` on: a new tensor, or values written
  /// through it (counted when the mutable access begins, so no forward pass may run between
  /// taking a mutable pointer and writing through it).
  public var value: Tensor {
    get { storedValue }
    set {
      storedValue = newValue
      version &+= 1
    }
    // Mutating through `value` (an optimizer's step) writes in place; an observer would copy.
    _modify {
      version &+= 1
      yield &storedValue
    }
  }
  private var storedValue: Tensor
  /// Counts the changes to ``value``. What a layer derives from the value and keeps (a
  /// convolution's Winograd-transformed filters) is current while the version it was made
  /// from is.
  public private(set) var version = 0
  /// The accumulated gradient, the shape of `value`. Backward passes add to it;
  /// optimizers read it; ``zeroGradient()`` clears it. Allocated (as zeros) on first use,
  /// so a model used only for inference carries no gradient memory.
  public var gradient: Tensor {
    get {
      if let storedGradient { return storedGradient }
      let zeros = Tensor(shape: kind == .weight ? value.shape : [0])
      storedGradient = zeros
      return zeros
    }
    set { storedGradient = newValue }
  }
  private var storedGradient: Tensor?
  /// When false, backward passes leave `gradient` untouched and optimizers skip it.
  public var isTrainable: Bool
  /// Multiplies the optimizer's learning rate for this parameter (discriminative rates).
  public var learningRateScale: Float = 1
  /// How PyTorch stores this parameter, so checkpoints convert to Podium's layout at load.
  public var pytorchLayout: PyTorchLayout = .same

  /// Creates a parameter holding `value`, with a zero gradient.
  public init(_ name: String, _ value: Tensor, kind: Kind = .weight) {
    self.name = name
    self.kind = kind
    storedValue = value
    isTrainable = kind == .weight
  }

  /// True when a backward pass should compute this parameter's gradient.
  public var needsGradient: Bool { kind == .weight && isTrainable }

  /// Sets the gradient to zero (nothing to do before it is first used).
  public func zeroGradient() {
    guard kind == .weight, storedGradient != nil else { return }
    gradient.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
  }

  /// Replaces the value with `tensor` in PyTorch's layout (``pytorchLayout``), converted
  /// to Podium's.
  ///
  /// - Throws: ``ShapeError`` naming the parameter, PyTorch's expected shape and the
  ///   checkpoint's.
  public func assign(fromPyTorch tensor: Tensor, as qualifiedName: String? = nil) throws {
    let expected = pytorchLayout.pytorchShape(of: value.shape)
    guard tensor.shape == expected || (tensor.count == 1 && value.count == 1) else {
      throw ShapeError(context: qualifiedName ?? name, expected: expected, actual: tensor.shape)
    }
    value = pytorchLayout.toPodium(tensor.reshaped(expected))
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

/// How a parameter is laid out in PyTorch checkpoints, relative to Podium's layout.
public enum PyTorchLayout: Equatable, Sendable {
  /// The same shape and order (biases, batch-norm vectors, linear weights).
  case same
  /// A dense convolution weight: PyTorch `[OC, IC, KH, KW]`, Podium `[KH, KW, IC, OC]`.
  case convolution
  /// A depthwise convolution weight: PyTorch `[C, 1, KH, KW]`, Podium `[KH, KW, C]`.
  case depthwise
  /// A linear weight after a flatten: PyTorch's columns run over `(c, h, w)` of an NCHW
  /// map, Podium's over `(h, w, c)` of an NHWC one.
  case linearAfterFlatten(channels: Int, height: Int, width: Int)

  /// PyTorch's shape for a parameter whose Podium shape is `shape`.
  public func pytorchShape(of shape: [Int]) -> [Int] {
    switch self {
    case .same, .linearAfterFlatten: return shape
    case .convolution: return [shape[3], shape[2], shape[0], shape[1]]
    case .depthwise: return [shape[2], 1, shape[0], shape[1]]
    }
  }

  /// The shape and strides under which a tensor stored in PyTorch's layout (with
  /// `shape` and element `strides`) reads, in row-major order, as Podium's layout: a
  /// reordering of the same elements, so no intermediate copy is needed.
  public func podiumView(shape: [Int], strides: [Int]) -> (shape: [Int], strides: [Int]) {
    switch self {
    case .same:
      return (shape, strides)
    case .convolution:  // [OC, IC, KH, KW] → [KH, KW, IC, OC]
      return ([shape[2], shape[3], shape[1], shape[0]], [strides[2], strides[3], strides[1], strides[0]])
    case .depthwise:  // [C, 1, KH, KW] → [KH, KW, C]
      return ([shape[2], shape[3], shape[0]], [strides[2], strides[3], strides[0]])
    case let .linearAfterFlatten(c, h, w):  // [OUT, C·H·W] → [OUT, H, W, C]
      let column = strides[1]
      return ([shape[0], h, w, c], [strides[0], w * column, column, h * w * column])
    }
  }

  /// Converts a contiguous tensor in PyTorch's layout to Podium's.
  public func toPodium(_ tensor: Tensor) -> Tensor {
    let strides = tensor.shape.indices.map { tensor.shape[($0 + 1)...].reduce(1, *) }
    let (shape, viewStrides) = podiumView(shape: tensor.shape, strides: strides)
    var result = Tensor(uninitializedShape: shape)
    let output = result.mutablePointer()
    tensor.withUnsafeBufferPointer { source in
      let reference = TensorReference(
        storage: StorageReference(key: "", dtype: .float32, count: tensor.count), offset: 0, shape: shape, strides: viewStrides)
      StorageDecoding.decode(reference, block: UnsafeRawBufferPointer(source), into: output)
    }
    return result.reshaped(podiumShape(of: tensor.shape))
  }

  /// Podium's shape for a parameter whose PyTorch shape is `shape`.
  func podiumShape(of shape: [Int]) -> [Int] {
    switch self {
    case .same, .linearAfterFlatten: return shape
    case .convolution: return [shape[2], shape[3], shape[1], shape[0]]
    case .depthwise: return [shape[2], shape[3], shape[0]]
    }
  }
}
