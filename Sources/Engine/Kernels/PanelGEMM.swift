import CMatrixKernels
import Foundation

/// The matrix-multiply kernels the engine chooses between at run time, by what the CPU has.
///
/// OpenBLAS serves every CPU. On CPUs with AVX-512, Podium's own panel GEMM
/// (`CMatrixKernels`, compiled for AVX-512 inside a binary built for AVX2) takes the products
/// whose inner dimension is at least ``minimumInnerDimension``: 1×1 and im2col convolutions
/// (forward and input gradient) and Winograd's per-point products, and an inverted
/// bottleneck's band by band at any inner dimension. It packs the right-hand
/// matrix once per layer instead of once per call, never copies the left-hand one, and
/// applies the channel epilogue (folded batch norm, ReLU) while the results are in
/// registers; its transposed product takes the weight gradients up to
/// ``largestTransposedProduct`` values. `podium bench --kernels` with
/// `PODIUM_MATRIX_KERNELS=openblas` and without compares the two on the same shapes. The channel-by-channel kernels (batch norm,
/// depthwise convolution: ``ChannelKernels``) follow the same choice.
public enum MatrixKernels {
  /// A family of kernels.
  public enum Variant: String, CaseIterable, Sendable {
    /// OpenBLAS's `cblas_sgemm` and Podium's portable kernels (AVX2): every x86-64 CPU since Haswell.
    case openBLAS = "openblas"
    /// Podium's AVX-512 panel GEMM for the products it suits, OpenBLAS for the rest, and
    /// Podium's AVX-512 channel kernels.
    case avx512
  }

  /// The variants this CPU runs, narrowest first.
  public static let supported: [Variant] = {
    #if arch(x86_64)
    return CMatrixKernels_hasAVX512() != 0 ? [.openBLAS, .avx512] : [.openBLAS]
    #else
    return [.openBLAS]
    #endif
  }()

  /// The variant in use: the widest ``supported`` one, or the one `PODIUM_MATRIX_KERNELS`
  /// names when the CPU has it. Tests set it to run every variant against one reference.
  nonisolated(unsafe) public static var active = chosen(environment: ProcessInfo.processInfo.environment)

  /// The variant `PODIUM_MATRIX_KERNELS` in `environment` names, when this CPU supports it;
  /// else the widest supported one.
  static func chosen(environment: [String: String]) -> Variant {
    if let name = environment["PODIUM_MATRIX_KERNELS"], let named = Variant(rawValue: name.lowercased()),
      supported.contains(named) {
      return named
    }
    return supported.last!
  }

  /// The smallest inner dimension the panel GEMM takes: below it OpenBLAS was faster
  /// (MobileNetV2's 16-, 24- and 32-channel 1×1 convolutions).
  static let minimumInnerDimension = 64

  /// True when the panel GEMM computes a product with inner dimension `k`; for any `k` when
  /// the product runs band by band (an inverted bottleneck's): there OpenBLAS packs the weight
  /// again for every band and needs a second pass for the epilogue, and its lead at small `k`,
  /// measured on whole layers, did not hold.
  static func usesPanels(innerDimension k: Int, perBand: Bool = false) -> Bool {
    active == .avx512 && (perBand || k >= minimumInnerDimension)
  }

  /// The largest `C` (`m·n` floats) the transposed product takes: past it (ResNet-50's and
  /// MobileNetV2's widest 7×7 and 14×14 weight gradients) C no longer stays in L2 beside the
  /// rows of A and B it sums, and OpenBLAS was faster (`scripts/bench/panel_gemm_vs_openblas.c`).
  static let largestTransposedProduct = 1 << 17

  /// True when Podium's transposed product computes `C[m, n] += Aᵀ·B`.
  static func usesTransposedProduct(m: Int, n: Int) -> Bool {
    active == .avx512 && keepsInCache(weightGradient: m, by: n)
  }

  /// True when a weight gradient `C[m, n]` stays in L2 beside the rows it sums
  /// (``largestTransposedProduct``), so that adding to it a few rows at a time costs no more
  /// than one product over all rows.
  static func keepsInCache(weightGradient m: Int, by n: Int) -> Bool { m * n <= largestTransposedProduct }
}

/// `B` (`[k, n]`, or stored as its `[n, k]` transpose) packed into 64-column panels in a
/// pooled buffer, for ``panelMultiply(rows:a:lda:packed:c:ldc:epilogue:)``.
struct PackedPanels {
  let k: Int, n: Int
  let values: UnsafePointer<Float>

  /// Columns per panel.
  static let width = Int(CMatrixKernels_panelWidth)

  /// Panels that another kernel wrote in this layout (Winograd's transformed filters).
  init(k: Int, n: Int, values: UnsafePointer<Float>) { (self.k, self.n, self.values) = (k, n, values) }

  /// Floats the packing of a `[k, n]` matrix needs.
  static func count(k: Int, n: Int) -> Int { CMatrixKernels_packedCount(k, n) }

  /// Packs `b` into `values`, which holds ``count(k:n:)`` floats, 64-byte aligned.
  init(_ b: UnsafePointer<Float>, ldb: Int, transposed: Bool, k: Int, n: Int, into values: UnsafeMutablePointer<Float>) {
    (self.k, self.n, self.values) = (k, n, UnsafePointer(values))
    CMatrixKernels_packPanels(b, ldb, transposed ? 1 : 0, k, n, values)
  }
}

/// `C[rows, n] = epilogue(A[rows, k] · B)` on the calling thread, `B` packed; C stored past the
/// caches where `streaming` is 1 (``ChannelKernels/streams(_:)``).
/// - Precondition: ``MatrixKernels/active`` is `.avx512`.
func panelMultiply(
  rows: Int, a: UnsafePointer<Float>, lda: Int, packed b: PackedPanels, c: UnsafeMutablePointer<Float>, ldc: Int,
  epilogue: ChannelEpilogue, streaming: Int32 = 0
) {
  #if arch(x86_64)
  let upper = epilogue.clamp?.ceiling ?? .infinity
  CMatrixKernels_panelGEMM_AVX512(
    rows, b.n, b.k, a, lda, b.values, c, ldc, epilogue.scale, epilogue.shift, epilogue.addend(at: c),
    epilogue.clamp == nil ? 0 : 1, 0, upper, streaming)
  #else
  preconditionFailure("the panel GEMM needs AVX-512")
  #endif
}

/// `C[m, n] = epilogue(A[m, k] · op(B))`, rows split among the workers, `op(B)` packed once.
/// `op(B)` is `B` (`[k, n]`, row stride `ldb`) or, with `transposeB`, the transpose of `B`
/// stored as `[n, k]`. A C larger than the caches (``ChannelKernels/streams(_:)``) is written
/// without first being read into them: ResNet-50 `infer` ran 2–4% faster so.
func panelGEMM(
  m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
  c: UnsafeMutablePointer<Float>, ldc: Int, epilogue: ChannelEpilogue
) {
  withScratch(count: PackedPanels.count(k: k, n: n)) { buffer in
    let packed = PackedPanels(b, ldb: ldb, transposed: transposeB, k: k, n: n, into: buffer)
    let streaming = ChannelKernels.streams(m * n)
    Parallel.forEachRange(m) { rows in
      panelMultiply(
        rows: rows.count, a: a + rows.lowerBound * lda, lda: lda, packed: packed, c: c + rows.lowerBound * ldc, ldc: ldc,
        epilogue: epilogue, streaming: streaming)
    }
  }
}

/// `C[m, n] += Aᵀ · B` on the calling thread, for `A` `[k, m]` and `B` `[k, n]` (a weight
/// gradient: `k` pixels of the input and of the output gradient): Podium's AVX-512 kernel,
/// which reads both in place, where ``MatrixKernels/usesTransposedProduct(m:n:)``, else OpenBLAS.
func addTransposedProduct(
  m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
  c: UnsafeMutablePointer<Float>, ldc: Int
) {
  #if arch(x86_64)
  if MatrixKernels.usesTransposedProduct(m: m, n: n) {
    CMatrixKernels_addTransposedProduct_AVX512(m, n, k, a, lda, b, ldb, c, ldc)
    return
  }
  #endif
  sgemmRowMajor(true, false, m, n, k, 1, a, lda, b, ldb, 1, c, ldc)
}

/// `C[m, n] += Aᵀ · B` over all workers: with Podium's kernel each takes a share of the `k`
/// rows and adds into its own partial sums, so every row of `A` and `B` is read once;
/// OpenBLAS splits `C` instead, as ``gemm(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:parallel:)`` does.
func addTransposedProductInParallel(
  m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
  c: UnsafeMutablePointer<Float>, ldc: Int
) {
  guard MatrixKernels.usesTransposedProduct(m: m, n: n) else {
    gemm(transposeA: true, transposeB: false, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: 1, c: c, ldc: ldc)
    return
  }
  Parallel.prepare()
  let workers = 2 * m * n * k > 4_000_000 ? min(Parallel.threadCount, k) : 1
  let size = m * n
  withScratch(count: max(1, (workers - 1) * size)) { partials in
    partials.initialize(repeating: 0, count: (workers - 1) * size)
    let used = Parallel.forEachWorker(workers) { worker, _ in
      let rows = Parallel.range(worker, of: workers, splitting: k)
      let (target, stride) = worker == 0 ? (c, ldc) : (partials + (worker - 1) * size, n)
      addTransposedProduct(
        m: m, n: n, k: rows.count, a: a + rows.lowerBound * lda, lda: lda, b: b + rows.lowerBound * ldb, ldb: ldb,
        c: target, ldc: stride)
    }
    for worker in 1..<used {
      Parallel.forEachRange(m) { rows in
        for row in rows { addInPlace(c + row * ldc, partials + (worker - 1) * size + row * n, n) }
      }
    }
  }
}
