import CChannelKernels

/// What a convolution kernel does to each output value before storing it: a per-channel
/// affine map, an optional addend of the output's shape and an optional clamp,
/// `y = clamp(x · scale[c] + shift[c] + addend)`.
///
/// A bias is `shift` alone; a batch norm in evaluation mode folds into `scale` and `shift`
/// (``BatchNorm/evaluationAffine(after:)``); the shortcut of a residual block is the addend,
/// and ReLU or ReLU6 after it the clamp. Applied to each chunk of output while it is still in
/// cache, it replaces two or three further passes over the activation in memory. Pointers
/// are borrowed for the kernel call.
public struct ChannelEpilogue {
  /// Per-channel factor, or nil for 1.
  public var scale: UnsafePointer<Float>?
  /// Per-channel offset, or nil for 0.
  public var shift: UnsafePointer<Float>?
  /// Values added after the affine map, laid out like the output, or nil for none.
  var addend: Addend?
  /// Activation applied last, or nil for none.
  public var clamp: ClampActivation?

  /// A tensor added to the output value by value: the other term of a residual sum.
  struct Addend {
    /// The tensor's values, laid out like the output.
    let values: UnsafePointer<Float>
    /// Where the kernel writes the output's first value.
    let output: UnsafeMutablePointer<Float>
  }

  /// The epilogue `y = clamp(x · scale + shift)`.
  public init(scale: UnsafePointer<Float>? = nil, shift: UnsafePointer<Float>? = nil, clamp: ClampActivation? = nil) {
    (self.scale, self.shift, self.clamp) = (scale, shift, clamp)
  }

  /// Adds `bias` (if any), nothing else.
  public static func bias(_ bias: UnsafePointer<Float>?) -> ChannelEpilogue { ChannelEpilogue(shift: bias) }

  /// True when the epilogue leaves values unchanged.
  var isIdentity: Bool { scale == nil && shift == nil && addend == nil && clamp == nil }

  /// The addend of the output value the kernel writes at `target`, if the epilogue has one.
  @inline(__always)
  func addend(at target: UnsafePointer<Float>) -> UnsafePointer<Float>? {
    addend.map { $0.values + (target - UnsafePointer($0.output)) }
  }

  /// Runs a C row kernel that writes `rows` pixels of `channels` values at `output` through
  /// the affine map and clamp it is given (nil: none): this epilogue's, in the kernel's
  /// registers, or, when there is an addend to come between them, none, and then the whole
  /// epilogue in a second pass over the pixels while they are in cache.
  func throughRowKernel(
    output: UnsafeMutablePointer<Float>, rows: Int, channels: Int, _ kernel: (UnsafePointer<CChannelKernels_Affine>?) -> Void
  ) {
    guard addend == nil, !isIdentity else {
      kernel(nil)
      apply(output, rows: rows, channels: channels)
      return
    }
    withAffine(kernel)
  }

  /// Calls `body` with the affine map and clamp as the C kernels take them — nil when there
  /// is neither —, leaving out the addend.
  func withAffine<R>(_ body: (UnsafePointer<CChannelKernels_Affine>?) -> R) -> R {
    guard scale != nil || shift != nil || clamp != nil else { return body(nil) }
    let affine = CChannelKernels_Affine(scale: scale, shift: shift, clamp: clamp == nil ? 0 : 1, ceiling: clamp?.ceiling ?? .infinity)
    return withUnsafePointer(to: affine) { body($0) }
  }

  /// The clamp's bounds; `(−∞, +∞)` without one.
  private var bounds: (lower: Float, upper: Float) {
    clamp.map { (0, $0.ceiling) } ?? (-.infinity, .infinity)
  }

  /// Applies the epilogue in place to `rows` consecutive NHWC pixels of `channels` values.
  /// One branch per row picks a loop the compiler vectorises; with an addend, the affine map
  /// runs unclamped and a second loop over the row, still in L1, adds and clamps.
  func apply(_ values: UnsafeMutablePointer<Float>, rows: Int, channels: Int) {
    guard !isIdentity else { return }
    let (lower, upper) = bounds
    for r in 0..<rows {
      let y = values + r * channels
      guard let added = addend(at: y) else {
        applyAffine(y, channels: channels, lower: lower, upper: upper)
        continue
      }
      applyAffine(y, channels: channels, lower: -.infinity, upper: .infinity)
      for c in 0..<channels { y[c] = min(max(y[c] + added[c], lower), upper) }
    }
  }

  /// `y = min(max(y · scale + shift, lower), upper)` over one pixel's channels.
  @inline(__always)
  private func applyAffine(_ y: UnsafeMutablePointer<Float>, channels: Int, lower: Float, upper: Float) {
    if let scale, let shift {
      for c in 0..<channels { y[c] = min(max(y[c] * scale[c] + shift[c], lower), upper) }
    } else if let shift {
      for c in 0..<channels { y[c] = min(max(y[c] + shift[c], lower), upper) }
    } else if let scale {
      for c in 0..<channels { y[c] = min(max(y[c] * scale[c], lower), upper) }
    } else {
      for c in 0..<channels { y[c] = min(max(y[c], lower), upper) }
    }
  }
}

/// The epilogue of a convolution followed by a batch norm in evaluation mode and an
/// optional activation, owning its folded scale and shift:
/// `scale = γ / √(running_var + ε)`, `shift = β − running_mean · scale + bias · scale`.
struct FoldedNormalization {
  var scale: [Float], shift: [Float]
  var clamp: ClampActivation?

  init(normalization: BatchNorm, bias: Tensor?, clamp: ClampActivation?) {
    (scale, shift) = normalization.evaluationAffine()
    if let bias {
      for c in scale.indices { shift[c] += bias.pointer[c] * scale[c] }
    }
    self.clamp = clamp
  }

  /// Calls `body` with the epilogue; its pointers are valid inside `body` only.
  func withEpilogue<R>(_ body: (ChannelEpilogue) throws -> R) rethrows -> R {
    try scale.withUnsafeBufferPointer { scale in
      try shift.withUnsafeBufferPointer { shift in
        try body(ChannelEpilogue(scale: scale.baseAddress, shift: shift.baseAddress, clamp: clamp))
      }
    }
  }
}
