/// A 1×1 convolution's product over any run of its pixels, `C[rows, n] = epilogue(A[rows, k] ·
/// W)`, on the calling thread: the panel GEMM on `W` packed once for every call, with the
/// epilogue in its registers, where ``MatrixKernels`` chooses it for inner dimension `k`; else
/// OpenBLAS, then the epilogue over the rows just written, while they are in cache.
struct PointwiseProduct {
  let weight: UnsafePointer<Float>
  let k: Int, n: Int
  let packed: PackedPanels?
  let epilogue: ChannelEpilogue

  /// Writes `rows` rows of `C` at `c` (row stride `n`) from as many rows of `A` at `a` (row
  /// stride `lda`).
  func callAsFunction(rows: Int, a: UnsafePointer<Float>, lda: Int, c: UnsafeMutablePointer<Float>) {
    if let packed {
      panelMultiply(rows: rows, a: a, lda: lda, packed: packed, c: c, ldc: n, epilogue: epilogue)
      return
    }
    sgemmRowMajor(false, false, rows, n, k, 1, a, lda, weight, n, 0, c, n)
    epilogue.apply(c, rows: rows, channels: n)
  }
}

/// Calls `body` with the product of `weight` (`[k, n]`, row-major) and `epilogue`, its panels
/// packed into a pooled buffer that lives until `body` returns where the panel GEMM takes it
/// (``MatrixKernels/usesPanels(innerDimension:perBand:)``). Workers may share the product.
func withPointwiseProduct<R>(
  weight: UnsafePointer<Float>, k: Int, n: Int, epilogue: ChannelEpilogue, perBand: Bool = false,
  _ body: (PointwiseProduct) throws -> R
) rethrows -> R {
  guard MatrixKernels.usesPanels(innerDimension: k, perBand: perBand) else {
    return try body(PointwiseProduct(weight: weight, k: k, n: n, packed: nil, epilogue: epilogue))
  }
  return try withScratch(count: PackedPanels.count(k: k, n: n)) { buffer in
    let packed = PackedPanels(weight, ldb: n, transposed: false, k: k, n: n, into: buffer)
    return try body(PointwiseProduct(weight: weight, k: k, n: n, packed: packed, epilogue: epilogue))
  }
}
