// Batch normalisation's per-channel kernels (see CChannelKernels.h). Reference: Ioffe and
// Szegedy, "Batch Normalization" (2015).
#include "CChannelKernels.h"
#include "clamp.h"
#include "streaming.h"

#include <math.h>

/// `gradient` where `value` lies strictly inside `(0, ceiling)`, else 0 (NaN fails both tests).
static inline float passed(float gradient, float value, float ceiling) {
  return value > 0 && value < ceiling ? gradient : 0;
}

/// Rows per group in the sums of narrow rows: each running sum is loaded and stored once a
/// group, so its chain through memory (store, then load of the next row's) is a quarter as
/// long — it bounded 16- to 32-channel layers, one or two vectors a row. Rows of
/// `groupedChannels` or more have enough independent sums a row, and read across four rows
/// from memory they ran slower (144 channels: 4.3–6.5 ms against 3.0–4.7 ms a pass).
enum { groupRows = 4, groupedChannels = 64 };
_Static_assert(groupRows == 4, "the portable moments below add four rows by hand");

/// How many of `rows` rows of `c` channels the sums take in groups of `groupRows`.
static inline long groupedRows(long rows, long c) { return c < groupedChannels ? rows - rows % groupRows : 0; }

void CChannelKernels_blockMoments(long rows, long c, const float *restrict x, float *restrict mean,
                                  float *restrict squaredDeviations) {
  const long grouped = groupedRows(rows, c);
  long r = 0;
  for (; r < grouped; r += groupRows) {
    const float *restrict row = x + r * c;
    for (long ch = 0; ch < c; ch++) mean[ch] += (row[ch] + row[c + ch]) + (row[2 * c + ch] + row[3 * c + ch]);
  }
  for (; r < rows; r++) {
    for (long ch = 0; ch < c; ch++) mean[ch] += x[r * c + ch];
  }
  for (long ch = 0; ch < c; ch++) mean[ch] /= (float)rows;
  for (r = 0; r < grouped; r += groupRows) {
    const float *restrict row = x + r * c;
    for (long ch = 0; ch < c; ch++) {
      float d0 = row[ch] - mean[ch], d1 = row[c + ch] - mean[ch], d2 = row[2 * c + ch] - mean[ch], d3 = row[3 * c + ch] - mean[ch];
      squaredDeviations[ch] += fmaf(d0, d0, d1 * d1) + fmaf(d2, d2, d3 * d3);
    }
  }
  for (; r < rows; r++) {
    for (long ch = 0; ch < c; ch++) {
      float d = x[r * c + ch] - mean[ch];
      squaredDeviations[ch] = fmaf(d, d, squaredDeviations[ch]);
    }
  }
}

void CChannelKernels_affine(long rows, long c, const float *restrict x, const float *restrict scale,
                            const float *restrict shift, int clamp, float ceiling, float *restrict y, int streaming) {
  (void)streaming;
  for (long r = 0; r < rows; r++) {
    const float *restrict in = x + r * c;
    float *restrict out = y + r * c;
    if (clamp) {
      for (long ch = 0; ch < c; ch++) out[ch] = clamped(fmaf(in[ch], scale[ch], shift[ch]), ceiling);
    } else {
      for (long ch = 0; ch < c; ch++) out[ch] = fmaf(in[ch], scale[ch], shift[ch]);
    }
  }
}

/// The gradient sums with the mask (`masked`, a constant where inlined) or without.
static inline __attribute__((always_inline)) void gradientSums(
    int masked, long rows, long c, const float *restrict x, const float *restrict dY, const float *restrict mean,
    const float *restrict invStd, const float *restrict maskScale, const float *restrict maskShift, float ceiling,
    float *restrict sumG, float *restrict sumGXhat) {
  const long grouped = groupedRows(rows, c);
  long r = 0;
  for (; r < grouped; r += groupRows) {
    for (long ch = 0; ch < c; ch++) {
      float g = 0, centred = 0;
      for (long q = 0; q < groupRows; q++) {
        long index = (r + q) * c + ch;
        float gradient = masked ? passed(dY[index], fmaf(x[index], maskScale[ch], maskShift[ch]), ceiling) : dY[index];
        g += gradient;
        centred = fmaf(gradient, x[index] - mean[ch], centred);
      }
      sumG[ch] += g;
      sumGXhat[ch] = fmaf(centred, invStd[ch], sumGXhat[ch]);
    }
  }
  for (; r < rows; r++) {
    for (long ch = 0; ch < c; ch++) {
      long index = r * c + ch;
      float gradient = masked ? passed(dY[index], fmaf(x[index], maskScale[ch], maskShift[ch]), ceiling) : dY[index];
      sumG[ch] += gradient;
      sumGXhat[ch] = fmaf(gradient * (x[index] - mean[ch]), invStd[ch], sumGXhat[ch]);
    }
  }
}

void CChannelKernels_batchNormGradientSums(long rows, long c, const float *restrict x, const float *restrict dY,
                                           const float *restrict mean, const float *restrict invStd,
                                           const float *restrict maskScale, const float *restrict maskShift,
                                           float ceiling, float *restrict sums) {
  if (maskScale) {
    gradientSums(1, rows, c, x, dY, mean, invStd, maskScale, maskShift, ceiling, sums, sums + c);
  } else {
    gradientSums(0, rows, c, x, dY, mean, invStd, maskScale, maskShift, ceiling, sums, sums + c);
  }
}

void CChannelKernels_batchNormInputGradient(long rows, long c, const float *restrict x, const float *restrict dY,
                                            const float *restrict a, const float *restrict b,
                                            const float *restrict bias, const float *restrict maskScale,
                                            const float *restrict maskShift, float ceiling, float *restrict dX,
                                            int streaming) {
  (void)streaming;
  for (long r = 0; r < rows; r++) {
    const float *restrict in = x + r * c, *restrict gradient = dY + r * c;
    float *restrict out = dX + r * c;
    if (maskScale) {
      for (long ch = 0; ch < c; ch++) {
        float g = passed(gradient[ch], fmaf(in[ch], maskScale[ch], maskShift[ch]), ceiling);
        out[ch] = fmaf(a[ch], g, fmaf(b[ch], in[ch], bias[ch]));
      }
    } else {
      for (long ch = 0; ch < c; ch++) out[ch] = fmaf(a[ch], gradient[ch], fmaf(b[ch], in[ch], bias[ch]));
    }
  }
}

#if defined(__x86_64__)
#include <immintrin.h>

#define PODIUM_AVX512 __attribute__((target("avx512f,fma")))

/// Lanes of the vector that starts at channel `ch` of a row of `c`.
PODIUM_AVX512 static inline __mmask16 lanes(long ch, long c) {
  return c - ch >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (c - ch)) - 1);
}

// Loads and stores under a mask: plain ones for a full mask, because a masked store does not
// forward to the next masked load of the same address (a stall on the running sums).
PODIUM_AVX512 static inline __m512 load(const float *source, __mmask16 mask) {
  return mask == 0xFFFF ? _mm512_loadu_ps(source) : _mm512_maskz_loadu_ps(mask, source);
}

PODIUM_AVX512 static inline void storeMasked(float *target, __mmask16 mask, __m512 value) {
  if (mask == 0xFFFF) {
    _mm512_storeu_ps(target, value);
  } else {
    _mm512_mask_storeu_ps(target, mask, value);
  }
}

/// Stores `value` to `target` under `mask`, non-temporally when `stream` (then the mask is full).
PODIUM_AVX512 static inline void store(float *target, __mmask16 mask, __m512 value, int stream) {
  if (stream) {
    _mm512_stream_ps(target, value);
  } else {
    storeMasked(target, mask, value);
  }
}

/// The masked gradient: `g` where `value` lies strictly inside `(0, ceiling)`, else 0.
PODIUM_AVX512 static inline __m512 passedVector(__m512 g, __m512 value, __m512 ceiling) {
  __mmask16 inside = _mm512_cmp_ps_mask(value, _mm512_setzero_ps(), _CMP_GT_OQ)
      & _mm512_cmp_ps_mask(value, ceiling, _CMP_LT_OQ);
  return _mm512_maskz_mov_ps(inside, g);
}

/// Adds to `out[ch..<ch + 16·V]` (the vectors of channels from `ch` on, the last one under
/// `last`) each column's sum over the `rows` rows of `x` or, with `centre`, its sum of squared
/// deviations from `centre`. The sums stay in registers, two rows' worth apart so that
/// neither chain of additions waits on the other: no running sum goes through memory row
/// by row. `V` is a constant in every caller.
PODIUM_AVX512 static inline __attribute__((always_inline)) void addColumnSums(
    const int V, long rows, long c, long ch, __mmask16 last, const float *x, const float *centre, float *out) {
  __m512 even[4], odd[4], mu[4];
#pragma clang loop unroll(full)
  for (int j = 0; j < V; j++) {
    even[j] = odd[j] = _mm512_setzero_ps();
    mu[j] = centre ? load(centre + ch + 16 * j, j == V - 1 ? last : 0xFFFF) : _mm512_setzero_ps();
  }
#define PODIUM_ADD_ROW(sums, row)                                                  \
  _Pragma("clang loop unroll(full)") for (int j = 0; j < V; j++) {                 \
    __m512 v = load(x + (row) * c + ch + 16 * j, j == V - 1 ? last : 0xFFFF);      \
    if (centre) {                                                                  \
      __m512 d = _mm512_sub_ps(v, mu[j]);                                          \
      sums[j] = _mm512_fmadd_ps(d, d, sums[j]);                                    \
    } else {                                                                       \
      sums[j] = _mm512_add_ps(sums[j], v);                                         \
    }                                                                              \
  }
  long r = 0;
  for (; r + 1 < rows; r += 2) {
    PODIUM_ADD_ROW(even, r)
    PODIUM_ADD_ROW(odd, r + 1)
  }
  if (r < rows) PODIUM_ADD_ROW(even, r)
#undef PODIUM_ADD_ROW
#pragma clang loop unroll(full)
  for (int j = 0; j < V; j++) {
    __mmask16 m = j == V - 1 ? last : 0xFFFF;
    storeMasked(out + ch + 16 * j, m, _mm512_add_ps(load(out + ch + 16 * j, m), _mm512_add_ps(even[j], odd[j])));
  }
}

/// ``addColumnSums`` over every channel, 64 at a time.
PODIUM_AVX512 static void addAllColumnSums(long rows, long c, const float *x, const float *centre, float *out) {
  for (long ch = 0; ch < c; ch += 64) {
    long left = c - ch, vectors = left >= 64 ? 4 : (left + 15) / 16;
    __mmask16 last = lanes(ch + 16 * (vectors - 1), c);
    switch (vectors) {
    case 1: addColumnSums(1, rows, c, ch, last, x, centre, out); break;
    case 2: addColumnSums(2, rows, c, ch, last, x, centre, out); break;
    case 3: addColumnSums(3, rows, c, ch, last, x, centre, out); break;
    default: addColumnSums(4, rows, c, ch, last, x, centre, out); break;
    }
  }
}

PODIUM_AVX512 void CChannelKernels_blockMoments_AVX512(long rows, long c, const float *x, float *mean,
                                                       float *squaredDeviations) {
  addAllColumnSums(rows, c, x, NULL, mean);
  __m512 count = _mm512_set1_ps((float)rows);
  for (long ch = 0; ch < c; ch += 16) {
    __mmask16 m = lanes(ch, c);
    storeMasked(mean + ch, m, _mm512_div_ps(load(mean + ch, m), count));
  }
  addAllColumnSums(rows, c, x, mean, squaredDeviations);
}

PODIUM_AVX512 void CChannelKernels_affine_AVX512(long rows, long c, const float *x, const float *scale,
                                                 const float *shift, int clamp, float ceiling, float *y,
                                                 int streaming) {
  int stream = streaming && streamable(y, c);
  __m512 zero = _mm512_setzero_ps(), top = _mm512_set1_ps(ceiling);
  for (long r = 0; r < rows; r++) {
    for (long ch = 0; ch < c; ch += 16) {
      __mmask16 m = lanes(ch, c);
      __m512 v = _mm512_fmadd_ps(load(x + r * c + ch, m), load(scale + ch, m),
                                 load(shift + ch, m));
      // max(0, v) and min(ceiling, ·) return their second operand when it is NaN.
      if (clamp) v = _mm512_min_ps(top, _mm512_max_ps(zero, v));
      store(y + r * c + ch, m, v, stream);
    }
  }
  if (stream) finishStreaming();
}

/// Adds rows `[r, r + count)`'s terms to the gradient sums, each vector of sums loaded and
/// stored once.
PODIUM_AVX512 static inline __attribute__((always_inline)) void addGradientRows(
    long count, long r, long c, const float *x, const float *dY, const float *mean, const float *invStd,
    const float *maskScale, const float *maskShift, __m512 top, float *sums) {
  for (long ch = 0; ch < c; ch += 16) {
    __mmask16 m = lanes(ch, c);
    __m512 centre = load(mean + ch, m), sumG = load(sums + ch, m), sumCentred = _mm512_setzero_ps();
    for (long q = 0; q < count; q++) {
      __m512 in = load(x + (r + q) * c + ch, m), g = load(dY + (r + q) * c + ch, m);
      if (maskScale) {
        __m512 value = _mm512_fmadd_ps(in, load(maskScale + ch, m), load(maskShift + ch, m));
        g = passedVector(g, value, top);
      }
      sumG = _mm512_add_ps(sumG, g);
      sumCentred = _mm512_fmadd_ps(g, _mm512_sub_ps(in, centre), sumCentred);
    }
    storeMasked(sums + ch, m, sumG);
    storeMasked(sums + c + ch, m, _mm512_fmadd_ps(sumCentred, load(invStd + ch, m), load(sums + c + ch, m)));
  }
}

PODIUM_AVX512 void CChannelKernels_batchNormGradientSums_AVX512(
    long rows, long c, const float *x, const float *dY, const float *mean, const float *invStd,
    const float *maskScale, const float *maskShift, float ceiling, float *sums) {
  __m512 top = _mm512_set1_ps(ceiling);
  const long grouped = groupedRows(rows, c);
  long r = 0;
  for (; r < grouped; r += groupRows) {
    addGradientRows(groupRows, r, c, x, dY, mean, invStd, maskScale, maskShift, top, sums);
  }
  for (; r < rows; r++) addGradientRows(1, r, c, x, dY, mean, invStd, maskScale, maskShift, top, sums);
}

PODIUM_AVX512 void CChannelKernels_batchNormInputGradient_AVX512(
    long rows, long c, const float *x, const float *dY, const float *a, const float *b, const float *bias,
    const float *maskScale, const float *maskShift, float ceiling, float *dX, int streaming) {
  int stream = streaming && streamable(dX, c);
  __m512 top = _mm512_set1_ps(ceiling);
  for (long r = 0; r < rows; r++) {
    for (long ch = 0; ch < c; ch += 16) {
      __mmask16 m = lanes(ch, c);
      __m512 in = load(x + r * c + ch, m), g = load(dY + r * c + ch, m);
      if (maskScale) {
        __m512 value = _mm512_fmadd_ps(in, load(maskScale + ch, m), load(maskShift + ch, m));
        g = passedVector(g, value, top);
      }
      __m512 linear = _mm512_fmadd_ps(load(b + ch, m), in, load(bias + ch, m));
      store(dX + r * c + ch, m, _mm512_fmadd_ps(load(a + ch, m), g, linear), stream);
    }
  }
  if (stream) finishStreaming();
}
#endif
