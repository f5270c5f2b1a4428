// The panel GEMM and the transposed product (see CMatrixKernels.h). Reference: Goto and van
// de Geijn, "Anatomy of High-Performance Matrix Multiplication" (2008): register tiles of about
// 24 zmm accumulators (6 rows × 64 columns, 8 × 48, 12 × 32, 12 × 16: the narrowest that
// covers the columns), fed by broadcasts of A and one row of B per step of k.
#include "CMatrixKernels.h"

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

enum {
  maxTileRows = 12, maxTileVectors = 4,
  // Rows of A per block of the panel GEMM: a multiple of every tile's rows.
  blockRows = 96,
  // The floats (256 KiB) of A and B the transposed product keeps in L2 per step of k — a
  // quarter of it, so the next step's rows come in beside them — and the fewest steps it
  // takes at once. 512 KiB ran the weight gradients of a MobileNetV2 training step about 10%
  // slower, 128 KiB about 20%.
  l2Floats = 1 << 16, minimumSteps = 64
};

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
/// What a tile does with its accumulators: the panel GEMM's epilogue (per-column `scale` and
/// `shift` from the tile's first column, either NULL, then the tile's share of `addend`, laid
/// out like C from the tile's first value, or NULL, then the clamp), stored over C
/// (non-temporally where `streaming` and a vector is whole and 64-byte aligned), or
/// (`accumulate`) an addition into C.
typedef struct {
  const float *scale, *shift, *addend;
  int clamp, accumulate;
  float lower, upper;
  int streaming;
} Epilogue;

/// Rows of A and B that a tile of the transposed product brings toward L2 while it computes,
/// `perStep` cache lines per step of k: the rows the next step of k takes, row after row a
/// page apart, which the hardware prefetcher does not follow.
typedef struct {
  const float *a, *b;
  long lda, ldb, m, n, rows, line, perStep;
} Fetch;

/// The cache lines of a row of `count` floats at `row`: one per 16 floats and the last float's
/// (the row need not start on a line).
static inline long linesOf(long count) { return (count + 15) / 16 + 1; }

static inline const float *lineAddress(const float *row, long count, long line) {
  return line < (count + 15) / 16 ? row + 16 * line : row + count - 1;
}

/// Issues the next `perStep` prefetches of `f`.
__attribute__((always_inline)) static inline void fetchSome(Fetch *f) {
  long linesA = linesOf(f->m), lines = linesA + linesOf(f->n);
  for (long issued = 0; issued < f->perStep && f->rows > 0; issued++) {
    const float *line = f->line < linesA ? lineAddress(f->a, f->m, f->line) : lineAddress(f->b, f->n, f->line - linesA);
    _mm_prefetch((const char *)line, _MM_HINT_T1);
    if (++f->line == lines) {
      f->line = 0, f->a += f->lda, f->b += f->ldb, f->rows--;
    }
  }
}

/// Asks for `rows` rows of A and B to be brought into L2, all at once.
static void fetchRows(const float *a, long lda, long m, const float *b, long ldb, long n, long rows) {
  Fetch all = {a, b, lda, ldb, m, n, rows, 0, (linesOf(m) + linesOf(n)) * rows};
  fetchSome(&all);
}

/// One tile of `R` rows × `V` vectors of 16 columns: the sum over `k` steps of
/// `A(i, p) · B(p, j)`, with `A(i, p)` at `a[i·ai + p·ap]` and row `p` of `B` at `b + p·bp`
/// (`maskedB`: the last vector of each row loaded under `last`, else read whole: packed
/// panels are zero-padded), then stored through the epilogue for rows `skip..<R` and the
/// columns `last` keeps of the last vector; `fetch` (or NULL) brings rows in meanwhile. `R` and
/// `V` are constants in every caller, so the loops unroll and the accumulators stay in
/// registers.
__attribute__((always_inline, target("avx512f,fma")))
static inline void tile(const int R, const int V, long k, const float *a, long ai, long ap, const float *b, long bp,
                        int maskedB, __mmask16 last, long skip, float *c, long ldc, Epilogue e, Fetch *fetch) {
  __m512 acc[maxTileRows][maxTileVectors];
#pragma clang loop unroll(full)
  for (int i = 0; i < R; i++) {
#pragma clang loop unroll(full)
    for (int j = 0; j < V; j++) acc[i][j] = _mm512_setzero_ps();
  }
  // The addend's rows come into L1 while the products are summed.
  if (e.addend) {
#pragma clang loop unroll(full)
    for (int i = 0; i < R; i++) {
#pragma clang loop unroll(full)
      for (int j = 0; j < V; j++) _mm_prefetch((const char *)(e.addend + i * ldc + 16 * j), _MM_HINT_T0);
    }
  }
  for (long p = 0; p < k; p++) {
    const float *row = b + p * bp, *column = a + p * ap;
    if (fetch) fetchSome(fetch);
    __m512 w[maxTileVectors];
#pragma clang loop unroll(full)
    for (int j = 0; j < V; j++) {
      w[j] = maskedB && j == V - 1 ? _mm512_maskz_loadu_ps(last, row + 16 * j) : _mm512_loadu_ps(row + 16 * j);
    }
#pragma clang loop unroll(full)
    for (int i = 0; i < R; i++) {
      __m512 x = _mm512_set1_ps(column[i * ai]);
#pragma clang loop unroll(full)
      for (int j = 0; j < V; j++) acc[i][j] = _mm512_fmadd_ps(x, w[j], acc[i][j]);
    }
  }
  __m512 low = _mm512_set1_ps(e.lower), high = _mm512_set1_ps(e.upper);
#pragma clang loop unroll(full)
  for (int j = 0; j < V; j++) {
    __mmask16 mask = j == V - 1 ? last : (__mmask16)0xFFFF;
    __m512 s = e.scale ? _mm512_maskz_loadu_ps(mask, e.scale + 16 * j) : _mm512_set1_ps(1);
    __m512 t = e.shift ? _mm512_maskz_loadu_ps(mask, e.shift + 16 * j) : _mm512_setzero_ps();
#pragma clang loop unroll(full)
    for (int i = 0; i < R; i++) {
      if (i < skip) continue;
      float *target = c + i * ldc + 16 * j;
      __m512 y = acc[i][j];
      if (e.accumulate) {
        y = _mm512_add_ps(y, _mm512_maskz_loadu_ps(mask, target));
      } else {
        if (e.scale) y = _mm512_mul_ps(y, s);
        if (e.shift) y = _mm512_add_ps(y, t);
        if (e.addend) y = _mm512_add_ps(y, _mm512_maskz_loadu_ps(mask, e.addend + i * ldc + 16 * j));
        // max(lower, y) and min(upper, y) return y when y is NaN.
        if (e.clamp) y = _mm512_min_ps(high, _mm512_max_ps(low, y));
      }
      if (e.streaming && mask == (__mmask16)0xFFFF && ((uintptr_t)target & 63) == 0) {
        _mm512_stream_ps(target, y);
      } else {
        _mm512_mask_storeu_ps(target, mask, y);
      }
    }
  }
}

/// The tile shapes: as many rows as keep about 24 accumulators for 1–4 vectors, fewer where
/// they cover a short matrix with less waste, and single rows for matrices shorter than a tile.
#define PODIUM_TILES(X) \
  X(12, 1) X(8, 1) X(12, 2) X(8, 2) X(8, 3) X(4, 3) X(6, 4) X(4, 4) X(1, 1) X(1, 2) X(1, 3) X(1, 4)

/// Per shape: the tiles down `rows` rows of a panel whose `A` is read along rows (`ap` = 1: the
/// panel GEMM's left-hand matrix), `addend` (or NULL) laid out like C, in one call; and one
/// tile whose `A` is read down columns (`ai` = 1: the transposed product's).
#define PODIUM_TILE_FUNCTIONS(R, V)                                                                        \
  __attribute__((target("avx512f,fma"))) static void rowTile##R##x##V(                                   \
      long k, const float *a, long lda, const float *b, long rows, __mmask16 last, float *c, long ldc,     \
      const float *addend, Epilogue e) {                                                                   \
    for (long row = 0; row < rows; row += R) {                                                             \
      /* The last tile ends at the last row; the rows it shares with the tile before are computed */      \
      /* twice and stored once. */                                                                        \
      long at = row + R > rows ? rows - R : row;                                                           \
      e.addend = addend ? addend + at * ldc : NULL;                                                        \
      tile(R, V, k, a + at * lda, lda, 1, b, CMatrixKernels_panelWidth, 0, last, row - at, c + at * ldc,   \
           ldc, e, NULL);                                                                                  \
    }                                                                                                      \
  }                                                                                                        \
  __attribute__((target("avx512f,fma"))) static void columnTile##R##x##V(                                \
      long k, const float *a, long lda, const float *b, long ldb, long skip, __mmask16 last, float *c,     \
      long ldc, Epilogue e, Fetch *fetch) {                                                                \
    tile(R, V, k, a, 1, lda, b, ldb, 1, last, skip, c, ldc, e, fetch);                                     \
  }
PODIUM_TILES(PODIUM_TILE_FUNCTIONS)
#undef PODIUM_TILE_FUNCTIONS

typedef void (*RowTile)(long, const float *, long, const float *, long, __mmask16, float *, long, const float *, Epilogue);
typedef void (*ColumnTile)(long, const float *, long, const float *, long, long, __mmask16, float *, long, Epilogue,
                           Fetch *);

/// The tiles for up to 64 columns and `m` rows: `tall…` for tiles of `rows` rows, `single…`
/// for one row (matrices shorter than a tile); `last` keeps the columns of the last vector.
typedef struct {
  int rows;
  RowTile tallRow, singleRow;
  ColumnTile tallColumn, singleColumn;
  __mmask16 last;
} TileShape;

/// The shape with the most rows or, when it would compute more than a tenth more rows than
/// `m` (`fitting`: short matrices), the shorter one for these columns. Fewer rows per tile load
/// more of B per product, so the taller wins unless the waste is large.
static TileShape tileShape(long columns, long m, int fitting) {
  int vectors = (int)((columns + 15) / 16);
  long inLast = columns - 16 * (vectors - 1);
  __mmask16 last = inLast >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << inLast) - 1);
#define PODIUM_SHAPE(R, V) (TileShape){R, rowTile##R##x##V, rowTile1x##V, columnTile##R##x##V, columnTile1x##V, last}
#define PODIUM_CHOOSE(R, r, V) \
  (fitting && m >= (r) && 10 * ((m + (R) - 1) / (R)) * (R) > 11 * m ? PODIUM_SHAPE(r, V) : PODIUM_SHAPE(R, V))
  switch (vectors) {
  case 1: return PODIUM_CHOOSE(12, 8, 1);
  case 2: return PODIUM_CHOOSE(12, 8, 2);
  case 3: return PODIUM_CHOOSE(8, 4, 3);
  default: return PODIUM_CHOOSE(6, 4, 4);
  }
#undef PODIUM_CHOOSE
#undef PODIUM_SHAPE
}

__attribute__((target("avx512f,fma")))
void CMatrixKernels_panelGEMM_AVX512(
    long rows, long n, long k, const float *a, long lda, const float *packed, float *c, long ldc,
    const float *scale, const float *shift, const float *addend, int clamp, float lower, float upper, int streaming) {
  const long width = CMatrixKernels_panelWidth;
  // A block of rows stays in L2 while every panel passes over it.
  for (long block = 0; block < rows; block += blockRows) {
    long blockEnd = block + blockRows < rows ? block + blockRows : rows;
    for (long column = 0; column < n; column += width) {
      TileShape shape = tileShape(n - column < width ? n - column : width, rows, 0);
      const float *panel = packed + column * k;
      Epilogue e = {scale ? scale + column : NULL, shift ? shift + column : NULL, NULL, clamp, 0, lower, upper, streaming};
      // Single-row tiles for matrices shorter than a tile; a last partial tile reaches back
      // into the block before.
      RowTile multiply = rows >= shape.rows ? shape.tallRow : shape.singleRow;
      multiply(k, a + block * lda, lda, panel, blockEnd - block, shape.last, c + block * ldc + column, ldc,
               addend ? addend + block * ldc + column : NULL, e);
    }
  }
  if (streaming) _mm_sfence();
}

/// Tiles of the transposed product per step of k: the count over every panel.
static long tilesPerStep(long m, long n) {
  long tiles = 0;
  for (long column = 0; column < n; column += CMatrixKernels_panelWidth) {
    TileShape shape = tileShape(n - column < CMatrixKernels_panelWidth ? n - column : CMatrixKernels_panelWidth, m, 1);
    long height = m >= shape.rows ? shape.rows : 1;
    tiles += (m + height - 1) / height;
  }
  return tiles;
}

__attribute__((target("avx512f,fma")))
void CMatrixKernels_addTransposedProduct_AVX512(
    long m, long n, long k, const float *a, long lda, const float *b, long ldb, float *c, long ldc) {
  const long width = CMatrixKernels_panelWidth;
  Epilogue e = {NULL, NULL, NULL, 0, 1, 0, 0};
  // Steps of k whose rows of A and B stay in L2 while the tiles pass over them; each tile
  // adds its sums into C once per step, and brings in its share of the next step's rows.
  long steps = l2Floats / (m + n), tiles = tilesPerStep(m, n);
  if (steps < minimumSteps) steps = minimumSteps;
  fetchRows(a, lda, m, b, ldb, n, k < steps ? k : steps);
  for (long p = 0; p < k; p += steps) {
    long count = k - p < steps ? k - p : steps, next = p + count;
    long nextCount = k - next < steps ? k - next : steps, tileIndex = 0;
    for (long column = 0; column < n; column += width) {
      TileShape shape = tileShape(n - column < width ? n - column : width, m, 1);
      int tall = m >= shape.rows;
      long height = tall ? shape.rows : 1;
      ColumnTile multiply = tall ? shape.tallColumn : shape.singleColumn;
      for (long first = 0; first < m; first += height, tileIndex++) {
        long from = next + nextCount * tileIndex / tiles, to = next + nextCount * (tileIndex + 1) / tiles;
        long lines = (linesOf(m) + linesOf(n)) * (to - from);
        Fetch fetch = {a + from * lda, b + from * ldb, lda, ldb, m, n, to - from, 0, (lines + count - 1) / count};
        // As in the panel GEMM, the last tile ends at the last row; the rows it shares with the
        // tile before are summed twice and added once.
        long at = first + height > m ? m - height : first;
        multiply(count, a + p * lda + at, lda, b + p * ldb + column, ldb, first - at, shape.last, c + at * ldc + column,
                 ldc, e, &fetch);
      }
    }
  }
}
#endif
