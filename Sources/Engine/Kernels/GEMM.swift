import CBLAS

/// Row-major single-precision matrix multiply, `C = alpha · op(A) · op(B) + beta · C`,
/// through OpenBLAS's `cblas_sgemm`, split over ``Parallel/threadCount`` workers.
///
/// Shapes: `op(A)` is `[M, K]`, `op(B)` is `[K, N]`, `C` is `[M, N]`; `op(X)` is `X` or
/// its transpose. Leading dimensions are row strides in elements. The rows of `C` are
/// split among workers when `M` is the larger extent, otherwise its columns, so each
/// worker runs one single-threaded `cblas_sgemm` on a disjoint block of `C`.
/// Reference: https://www.netlib.org/lapack/explore-html/ (SGEMM).
///
/// - Parameter parallel: `false` when the caller already runs one GEMM per worker.
public func gemm(
  transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
  alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
  b: UnsafePointer<Float>, ldb: Int,
  beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int,
  parallel: Bool = true
) {
  Parallel.prepare()
  guard m > 0, n > 0 else { return }
  let workers = parallel && 2 * m * n * k > 4_000_000 ? Parallel.threadCount : 1
  let splitRows = m >= n
  let blocks = min(workers, splitRows ? m : n)
  let run: (Int) -> Void = { block in
    let extent = splitRows ? m : n
    let range = Parallel.range(block, of: blocks, splitting: extent)
    var aBlock = a, bBlock = b, cBlock = c
    var rows = m, columns = n
    if splitRows {
      aBlock = transposeA ? a + range.lowerBound : a + range.lowerBound * lda
      cBlock = c + range.lowerBound * ldc
      rows = range.count
    } else {
      bBlock = transposeB ? b + range.lowerBound * ldb : b + range.lowerBound
      cBlock = c + range.lowerBound
      columns = range.count
    }
    sgemmRowMajor(
      transposeA, transposeB, rows, columns, k, alpha, aBlock, lda, bBlock, ldb, beta, cBlock, ldc)
  }
  if blocks <= 1 {
    run(0)
  } else {
    Parallel.forEachRange(blocks) { range in range.forEach(run) }
  }
}

/// One `cblas_sgemm` call in row-major order; `k == 0` scales `C` by `beta`, as BLAS does.
@inline(__always)
func sgemmRowMajor(
  _ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
  _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
  _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
) {
  cblas_sgemm(
    CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// The naive triple loop GEMM: the reference the tests hold ``gemm`` to, and a readable
/// statement of what it computes. Accumulates in Double.
public func gemmReference(
  transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
  a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
  c: UnsafeMutablePointer<Float>, ldc: Int
) {
  for i in 0..<m {
    for j in 0..<n {
      var sum = 0.0
      for p in 0..<k {
        let aValue = transposeA ? a[p * lda + i] : a[i * lda + p]
        let bValue = transposeB ? b[j * ldb + p] : b[p * ldb + j]
        sum += Double(aValue) * Double(bValue)
      }
      c[i * ldc + j] = Float(sum)
    }
  }
}
