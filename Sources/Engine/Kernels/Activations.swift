/// Element-wise activations and their gradients over flat buffers, in parallel.
/// Reference: https://pytorch.org/docs/stable/generated/torch.nn.ReLU6.html

/// Activations with a clamp form `min(max(x, 0), ceiling)`.
public enum ClampActivation: Sendable, Equatable {
  /// `max(x, 0)`.
  case relu
  /// `min(max(x, 0), 6)`, MobileNet's and EfficientNet-Lite's activation.
  case relu6

  /// The upper clamp (`+∞` for ReLU).
  public var ceiling: Float { self == .relu ? .infinity : 6 }

  /// `gradient` where `value` (the activation's output, or the value it clamped) lies
  /// strictly inside `(0, ceiling)`, else 0: at the kinks the gradient is taken as 0, as
  /// PyTorch does. The gradient comes in already loaded: loaded only where the test passes,
  /// a vectorised loop reads it with masked loads (`vmaskmovps`), which are slow on AMD cores.
  @inline(__always)
  static func gradient(_ gradient: Float, passedAt value: Float, ceiling: Float) -> Float {
    value > 0 && value < ceiling ? gradient : 0
  }
}

/// Blocks of this many values are the unit of parallel work for element-wise kernels.
let elementwiseBlock = 1 << 14

/// Runs `body` over `count` values in parallel blocks.
func forEachElementBlock(_ count: Int, _ body: (Range<Int>) -> Void) {
  let blocks = (count + elementwiseBlock - 1) / elementwiseBlock
  Parallel.forEachRange(blocks) { blockRange in
    body((blockRange.lowerBound * elementwiseBlock)..<min(blockRange.upperBound * elementwiseBlock, count))
  }
}

/// `y = min(max(x, 0), ceiling)`; `x` and `y` may be the same buffer.
public func clampActivationForward(
  _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, _ kind: ClampActivation
) {
  let ceiling = kind.ceiling
  forEachElementBlock(count) { range in
    for i in range { y[i] = min(max(x[i], 0), ceiling) }
  }
}

/// `y += x` over `count` values, in parallel blocks.
func addInParallel(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
  forEachElementBlock(count) { range in addInPlace(y + range.lowerBound, x + range.lowerBound, range.count) }
}

/// `y = min(max(y + x, 0), ceiling)`: a residual sum and its activation in one pass.
public func addClampInPlace(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int, _ kind: ClampActivation) {
  let ceiling = kind.ceiling
  forEachElementBlock(count) { range in
    for i in range { y[i] = min(max(y[i] + x[i], 0), ceiling) }
  }
}

/// `dX = dX + addend` where the activation's output `y` lies strictly inside `(0, ceiling)`,
/// else 0: two gradients summed and passed back through the activation in one pass.
func addClampActivationBackward(
  y: UnsafePointer<Float>, dX: UnsafeMutablePointer<Float>, addend: UnsafePointer<Float>, count: Int,
  _ kind: ClampActivation
) {
  let ceiling = kind.ceiling
  forEachElementBlock(count) { range in
    for i in range { dX[i] = ClampActivation.gradient(dX[i] + addend[i], passedAt: y[i], ceiling: ceiling) }
  }
}

/// `dX = dY` where the activation's output `y` lies strictly inside `(0, ceiling)`, else 0.
/// (At the kinks the gradient is taken as 0, as PyTorch does.)
public func clampActivationBackward(
  y: UnsafePointer<Float>, dY: UnsafePointer<Float>, dX: UnsafeMutablePointer<Float>,
  count: Int, _ kind: ClampActivation
) {
  let ceiling = kind.ceiling
  forEachElementBlock(count) { range in
    for i in range { dX[i] = ClampActivation.gradient(dY[i], passedAt: y[i], ceiling: ceiling) }
  }
}
