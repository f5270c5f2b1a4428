// The panel GEMM (see CMatrixKernels.h). Reference: Goto and van de Geijn, "Anatomy of
// High-Performance Matrix Multiplication" (2008): a register tile of 6 rows × 64 columns,
// 24 zmm accumulators, fed by broadcasts of A and one packed row of B per step of k.
#include "CMatrixKernels.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

enum { tileRows = 6, blockRows = 96 };

int CMatrixKernels_hasAVX512(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");
}
#endif

long CMatrixKernels_packedCount(long k, long n) {
  return (n + CMatrixKernels_panelWidth - 1) / CMatrixKernels_panelWidth * CMatrixKernels_panelWidth * k;
}

void CMatrixKernels_packPanels(const float *b, long ldb, int transposed, long k, long n, float *packed) {
  const long width = CMatrixKernels_panelWidth;
  for (long first = 0; first < n; first += width) {
    float *panel = packed + first * k;
    long columns = n - first < width ? n - first : width;
    for (long r = 0; r < k; r++) {
      float *row = panel + r * width;
      if (transposed) {
        for (long j = 0; j < columns; j++) row[j] = b[(first + j) * ldb + r];
      } else {
        memcpy(row, b + r * ldb + first, (size_t)columns * sizeof(float));
      }
      for (long j = columns; j < width; j++) row[j] = 0;
    }
  }
}

#if defined(__x86_64__)
/// Accumulates one tile of up to 6 rows over all of k, then stores `columns` (≤ 64) of it
/// through the epilogue. Rows past `rows` repeat row 0 and are not stored.
__attribute__((target("avx512f,fma")))
static void tile(long rows, long k, const float *a, long lda, const float *panel, float *c, long ldc, long columns,
                 const float *scale, const float *shift, int clamp, float lower, float upper) {
  __m512 acc[tileRows][4];
  for (int i = 0; i < tileRows; i++) {
    for (int j = 0; j < 4; j++) acc[i][j] = _mm512_setzero_ps();
  }
  // Rows past `rows` read row 0 again; they are computed but not stored.
  const float *a0 = a, *a1 = rows > 1 ? a + lda : a, *a2 = rows > 2 ? a + 2 * lda : a;
  const float *a3 = rows > 3 ? a + 3 * lda : a, *a4 = rows > 4 ? a + 4 * lda : a, *a5 = rows > 5 ? a + 5 * lda : a;
  for (long p = 0; p < k; p++) {
    const float *w = panel + p * CMatrixKernels_panelWidth;
    __m512 w0 = _mm512_load_ps(w), w1 = _mm512_load_ps(w + 16), w2 = _mm512_load_ps(w + 32), w3 = _mm512_load_ps(w + 48);
#define PODIUM_TILE_ROW(i, source)                      \
    {                                                   \
      __m512 x = _mm512_set1_ps(source[p]);             \
      acc[i][0] = _mm512_fmadd_ps(x, w0, acc[i][0]);    \
      acc[i][1] = _mm512_fmadd_ps(x, w1, acc[i][1]);    \
      acc[i][2] = _mm512_fmadd_ps(x, w2, acc[i][2]);    \
      acc[i][3] = _mm512_fmadd_ps(x, w3, acc[i][3]);    \
    }
    PODIUM_TILE_ROW(0, a0) PODIUM_TILE_ROW(1, a1) PODIUM_TILE_ROW(2, a2)
    PODIUM_TILE_ROW(3, a3) PODIUM_TILE_ROW(4, a4) PODIUM_TILE_ROW(5, a5)
#undef PODIUM_TILE_ROW
  }
  // Every index into the accumulators is a constant, so they stay in registers.
  __m512 low = _mm512_set1_ps(lower), high = _mm512_set1_ps(upper);
#pragma clang loop unroll(full)
  for (int j = 0; j < 4; j++) {
    long left = columns - 16 * j;
    if (left <= 0) break;
    __mmask16 mask = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
    __m512 s = scale ? _mm512_maskz_loadu_ps(mask, scale + 16 * j) : _mm512_set1_ps(1);
    __m512 t = shift ? _mm512_maskz_loadu_ps(mask, shift + 16 * j) : _mm512_setzero_ps();
    // max(lower, y) and min(upper, y) return y when y is NaN.
#define PODIUM_TILE_STORE(i)                                        \
    if (i < rows) {                                                 \
      __m512 y = acc[i][j];                                         \
      if (scale) y = _mm512_mul_ps(y, s);                           \
      if (shift) y = _mm512_add_ps(y, t);                           \
      if (clamp) y = _mm512_min_ps(high, _mm512_max_ps(low, y));    \
      _mm512_mask_storeu_ps(c + i * ldc + 16 * j, mask, y);         \
    }
    PODIUM_TILE_STORE(0) PODIUM_TILE_STORE(1) PODIUM_TILE_STORE(2)
    PODIUM_TILE_STORE(3) PODIUM_TILE_STORE(4) PODIUM_TILE_STORE(5)
#undef PODIUM_TILE_STORE
  }
}

__attribute__((target("avx512f,fma")))
void CMatrixKernels_panelGEMM_AVX512(
    long rows, long n, long k, const float *a, long lda, const float *packed, float *c, long ldc,
    const float *scale, const float *shift, int clamp, float lower, float upper) {
  const long width = CMatrixKernels_panelWidth;
  // A block of rows stays in L2 while every panel passes over it.
  for (long first = 0; first < rows; first += blockRows) {
    long last = first + blockRows < rows ? first + blockRows : rows;
    for (long column = 0; column < n; column += width) {
      long columns = n - column < width ? n - column : width;
      for (long r = first; r < last; r += tileRows) {
        long count = last - r < tileRows ? last - r : tileRows;
        tile(count, k, a + r * lda, lda, packed + column * k, c + r * ldc + column, ldc, columns,
             scale ? scale + column : NULL, shift ? shift + column : NULL, clamp, lower, upper);
      }
    }
  }
}
#endif
