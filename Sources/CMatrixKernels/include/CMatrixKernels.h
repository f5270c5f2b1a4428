#ifndef PODIUM_CMATRIXKERNELS_H
#define PODIUM_CMATRIXKERNELS_H
// Podium's own matrix kernels for the widest vector units a CPU has, compiled per ISA in one
// binary (the functions carry their own target attribute) and chosen at run time.
//
// The panel GEMM multiplies a row-major matrix by one packed once into 64-column panels, so
// neither operand is copied per call, and applies a per-column scale, shift and clamp to the
// accumulators before they are stored: no second pass over the result. The transposed
// product (weight gradients) reads both of its operands where they lie.

#ifdef __cplusplus
extern "C" {
#endif

/// Columns per packed panel.
enum { CMatrixKernels_panelWidth = 64 };

#if defined(__x86_64__)
/// Nonzero when the CPU and the operating system support the AVX-512 kernels (AVX-512F
/// and the zmm register state).
int CMatrixKernels_hasAVX512(void);
#endif

/// Floats that `CMatrixKernels_packPanels` writes for a `k × n` matrix.
long CMatrixKernels_packedCount(long k, long n);

/// Packs the `k × n` matrix `B` (row-major with row stride `ldb`, or, when `transposed` is
/// nonzero, stored as its `n × k` transpose) into `ceil(n / 64)` panels of `k` rows of 64
/// columns, the last zero-padded. `packed` must be 64-byte aligned.
void CMatrixKernels_packPanels(const float *b, long ldb, int transposed, long k, long n, float *packed);

#if defined(__x86_64__)
/// `C[rows × n] = epilogue(A[rows × k] · B)` with AVX-512, `B` packed by
/// `CMatrixKernels_packPanels`; row strides `lda` and `ldc`. The epilogue of value `(i, j)` is
/// `y · scale[j] + shift[j] + addend[i · ldc + j]` (any pointer may be NULL for 1, 0 and 0:
/// `addend` is laid out like C, the other term of a residual sum), then, when `clamp` is
/// nonzero, limited to `[lower, upper]`; NaN stays NaN. With `streaming` nonzero, whole
/// 64-byte-aligned vectors of C are stored non-temporally (a C larger than the caches is
/// written without first being read into them), and ordered before the call returns.
void CMatrixKernels_panelGEMM_AVX512(
    long rows, long n, long k, const float *a, long lda, const float *packed, float *c, long ldc,
    const float *scale, const float *shift, const float *addend, int clamp, float lower, float upper, int streaming);

/// `C[m × n] += Aᵀ · B` with AVX-512 for `A[k × m]` and `B[k × n]`, row-major with row
/// strides `lda`, `ldb` and `ldc`: a weight gradient, `k` pixels of the input and of the output
/// gradient, read in place without packing.
void CMatrixKernels_addTransposedProduct_AVX512(
    long m, long n, long k, const float *a, long lda, const float *b, long ldb, float *c, long ldc);
#endif

#ifdef __cplusplus
}
#endif
#endif
