/// Max pooling over NHWC windows (`torch.nn.MaxPool2d`).
public final class MaxPool2D: Layer {
  public let kernel: Int, stride: Int, padding: ConvPadding
  public var isTraining = true
  private var cache: (geometry: ConvGeometry, argmax: [Int32])?

  /// Creates a pool; `stride` defaults to the kernel size, as in PyTorch.
  public init(kernel: Int, stride: Int? = nil, padding: ConvPadding = .symmetric(0)) {
    (self.kernel, self.stride, self.padding) = (kernel, stride ?? kernel, padding)
  }

  public func forward(_ input: Tensor) throws -> Tensor {
    let g = try poolGeometry(input, kernel: kernel, stride: stride, padding: padding, layer: "MaxPool2D")
    var output = Tensor(uninitializedShape: g.outputShape)
    guard GradientRecording.isEnabled else {
      cache = nil
      maxPool2dForward(input: input.pointer, output: output.mutablePointer(), argmax: nil, geometry: g)
      return output
    }
    // The kernel writes every index: each window has a tap inside the image.
    let argmax = [Int32](unsafeUninitializedCapacity: output.count) { buffer, written in
      maxPool2dForward(input: input.pointer, output: output.mutablePointer(), argmax: buffer.baseAddress!, geometry: g)
      written = buffer.count
    }
    cache = (g, argmax)
    return output
  }

  /// The pool's geometry over an `[N, H, W, C]` input of shape `shape`.
  ///
  /// - Throws: ``ShapeError`` when the window does not fit the padded input.
  func geometry(for shape: [Int]) throws -> ConvGeometry {
    try poolGeometry(shape: shape, kernel: kernel, stride: stride, padding: padding, layer: "MaxPool2D")
  }

  /// Drops what an earlier recorded forward kept.
  func discardRecording() { cache = nil }

  public func backward(_ dY: Tensor, needsInputGradient: Bool) -> Tensor? {
    guard needsInputGradient else { return nil }
    guard let cache else { preconditionFailure("MaxPool2D.backward called before forward") }
    precondition(dY.shape == cache.geometry.outputShape, "MaxPool2D.backward: dY \(dY.shape) does not match output \(cache.geometry.outputShape)")
    var dX = Tensor(uninitializedShape: cache.geometry.inputShape)
    cache.argmax.withUnsafeBufferPointer {
      maxPool2dBackward(dY: dY.pointer, argmax: $0.baseAddress!, dX: dX.mutablePointer(), geometry: cache.geometry)
    }
    return dX
  }
}

/// Average pooling over NHWC windows (`torch.nn.AvgPool2d`, `count_include_pad=True` by default).
public final class AvgPool2D: Layer {
  public let kernel: Int, stride: Int, padding: ConvPadding
  public let countIncludesPadding: Bool
  public var isTraining = true
  private var geometry: ConvGeometry?

  /// Creates a pool; `stride` defaults to the kernel size, as in PyTorch.
  public init(kernel: Int, stride: Int? = nil, padding: ConvPadding = .symmetric(0), countIncludesPadding: Bool = true) {
    (self.kernel, self.stride, self.padding) = (kernel, stride ?? kernel, padding)
    self.countIncludesPadding = countIncludesPadding
  }

  public func forward(_ input: Tensor) throws -> Tensor {
    let g = try poolGeometry(input, kernel: kernel, stride: stride, padding: padding, layer: "AvgPool2D")
    geometry = g
    var output = Tensor(uninitializedShape: g.outputShape)
    avgPool2dForward(input: input.pointer, output: output.mutablePointer(), geometry: g,
                     countIncludesPadding: countIncludesPadding)
    return output
  }

  public func backward(_ dY: Tensor, needsInputGradient: Bool) -> Tensor? {
    guard needsInputGradient else { return nil }
    guard let g = geometry else { preconditionFailure("AvgPool2D.backward called before forward") }
    precondition(dY.shape == g.outputShape, "AvgPool2D.backward: dY \(dY.shape) does not match output \(g.outputShape)")
    var dX = Tensor(uninitializedShape: g.inputShape)
    avgPool2dBackward(dY: dY.pointer, dX: dX.mutablePointer(), geometry: g, countIncludesPadding: countIncludesPadding)
    return dX
  }
}

/// Global average pooling, `[N, H, W, C]` → `[N, C]` (`AdaptiveAvgPool2d(1)` + flatten).
public final class GlobalAvgPool: Layer {
  public var isTraining = true
  private var inputShape: [Int]?

  public init() {}

  public func forward(_ input: Tensor) throws -> Tensor {
    try checkInput(input, of: "GlobalAvgPool", rank: 4, lastDimension: nil, letters: "[N, H, W, C]")
    inputShape = input.shape
    let (n, c) = (input.shape[0], input.shape[3])
    var output = Tensor(uninitializedShape: [n, c])
    globalAvgPoolForward(input: input.pointer, output: output.mutablePointer(), batch: n,
                         pixels: input.shape[1] * input.shape[2], channels: c)
    return output
  }

  public func backward(_ dY: Tensor, needsInputGradient: Bool) -> Tensor? {
    guard needsInputGradient else { return nil }
    guard let shape = inputShape else { preconditionFailure("GlobalAvgPool.backward called before forward") }
    precondition(dY.shape == [shape[0], shape[3]], "GlobalAvgPool.backward: dY \(dY.shape) does not match output [\(shape[0]), \(shape[3])]")
    var dX = Tensor(uninitializedShape: shape)
    globalAvgPoolBackward(dY: dY.pointer, dX: dX.mutablePointer(), batch: shape[0],
                          pixels: shape[1] * shape[2], channels: shape[3])
    return dX
  }
}

/// Validates a pooling input and returns its window geometry.
private func poolGeometry(
  _ input: Tensor, kernel: Int, stride: Int, padding: ConvPadding, layer: String
) throws -> ConvGeometry {
  try checkInput(input, of: layer, rank: 4, lastDimension: nil, letters: "[N, H, W, C]")
  return try poolGeometry(shape: input.shape, kernel: kernel, stride: stride, padding: padding, layer: layer)
}

/// The geometry of a pool over an `[N, H, W, C]` input of shape `s`.
///
/// - Throws: ``ShapeError`` when the window does not fit the padded input.
private func poolGeometry(
  shape s: [Int], kernel: Int, stride: Int, padding: ConvPadding, layer: String
) throws -> ConvGeometry {
  if case let .explicit(top, bottom, left, right) = padding,
    s[1] + top + bottom < kernel || s[2] + left + right < kernel
  {
    throw ShapeError(context: "\(layer) input (window \(kernel)x\(kernel))", expected: "[N, H ≥ \(kernel), W ≥ \(kernel), C]", actual: s)
  }
  return ConvGeometry(input: (s[0], s[1], s[2], s[3]), outChannels: s[3], kernel: (kernel, kernel), stride: stride, padding: padding)
}
