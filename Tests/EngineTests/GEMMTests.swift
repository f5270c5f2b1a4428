import Engine
import EngineTestSupport
import XCTest

final class GEMMTests: XCTestCase {
  /// gemm (split over workers, through cblas_sgemm) equals the naive triple loop for every
  /// transpose combination, on shapes that take the row split, the column split and the
  /// single-call path.
  func testGEMM_matchesNaiveLoop() {
    let shapes = [(m: 7, n: 5, k: 3), (m: 150, n: 130, k: 110), (m: 40, n: 300, k: 200), (m: 1, n: 9, k: 4)]
    withEvery("shape", in: shapes) { s in
      withEvery("transposes", in: [(false, false), (true, false), (false, true), (true, true)]) { ta, tb in
        var rng = SeededGenerator(seed: 3)
        let a = Tensor.randomUniform(shape: ta ? [s.k, s.m] : [s.m, s.k], bound: 1, rng: &rng)
        let b = Tensor.randomUniform(shape: tb ? [s.n, s.k] : [s.k, s.n], bound: 1, rng: &rng)
        var fast = Tensor(shape: [s.m, s.n]), slow = Tensor(shape: [s.m, s.n])
        let (lda, ldb) = (ta ? s.m : s.k, tb ? s.k : s.n)
        a.withUnsafeBufferPointer { pa in
          b.withUnsafeBufferPointer { pb in
            fast.withUnsafeMutableBufferPointer { pc in
              gemm(transposeA: ta, transposeB: tb, m: s.m, n: s.n, k: s.k, a: pa.baseAddress!, lda: lda,
                   b: pb.baseAddress!, ldb: ldb, c: pc.baseAddress!, ldc: s.n)
            }
            slow.withUnsafeMutableBufferPointer { pc in
              gemmReference(transposeA: ta, transposeB: tb, m: s.m, n: s.n, k: s.k, a: pa.baseAddress!,
                            lda: lda, b: pb.baseAddress!, ldb: ldb, c: pc.baseAddress!, ldc: s.n)
            }
          }
        }
        assertClose(fast, slow, scaled: Tolerance.summation, "gemm \(s) ta=\(ta) tb=\(tb)")
      }
    }
  }
}
