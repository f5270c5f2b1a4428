/// Loads and stores of eight-lane vectors that may be partial, for the Swift kernels whose
/// inner loop runs over the contiguous channels of one NHWC pixel.
extension SIMD8 where Scalar == Float {
  /// Loads `width ≤ 8` floats (the rest zero).
  @inline(__always)
  static func load(_ p: UnsafePointer<Float>, _ width: Int) -> SIMD8<Float> {
    if width == 8 { return UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }
    var v = SIMD8<Float>.zero
    for i in 0..<width { v[i] = p[i] }
    return v
  }

  /// Stores the first `width ≤ 8` values.
  @inline(__always)
  func store(_ p: UnsafeMutablePointer<Float>, _ width: Int) {
    if width == 8 {
      UnsafeMutableRawPointer(p).storeBytes(of: self, as: SIMD8<Float>.self)
    } else {
      for i in 0..<width { p[i] = self[i] }
    }
  }
}
