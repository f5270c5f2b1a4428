// The transforms of Winograd F(4×4, 3×3) convolution (see CChannelKernels.h): the filters'
// `U = G g Gᵀ`, one input channel and every output channel a call; and, one tile and every
// channel a call, 16 channels at a time: the 6×6 input window `V = Bᵀ d B`, the
// 4×4 output `Y = Aᵀ M A` through the epilogue (`finishedAdding`, shared with the row
// kernels), and the output gradient's `dM = A dY Aᵀ`. Each 6×6 (or 6×4) intermediate stays in
// registers; the 36 points of a transformed window go to 36 matrices `pointStride` floats
// apart, which the products read as rows. The arithmetic is that of Lavin and Gray's matrices
// with interpolation points 0, ±1, ±2 and ∞, as `Winograd.swift` wrote it before.
// Written once with 16-lane vectors and compiled twice, as the depthwise kernels are; a last
// block of fewer than 16 channels goes through a zero-padded vector.
#include "CChannelKernels.h"
#include "vectors.h"

/// `Bᵀ · (d0 … d5)ᵀ`, written to `t[0], t[step], …`.
PODIUM_INLINE void inputTransform(const Vector d[6], Vector *t, int step) {
  const Vector d4MinusD2 = d[4] - d[2], d3MinusD1 = d[3] - d[1];
  t[0] = 4 * d[0] - 5 * d[2] + d[4];
  t[step] = (d[3] + d[4]) - 4 * (d[1] + d[2]);
  t[2 * step] = (d[4] - d[3]) + 4 * (d[1] - d[2]);
  t[3 * step] = d4MinusD2 + 2 * d3MinusD1;
  t[4 * step] = d4MinusD2 - 2 * d3MinusD1;
  t[5 * step] = 4 * d[1] - 5 * d[3] + d[5];
}

/// `Aᵀ · (m0 … m5)ᵀ`, written to `t[0], t[step], t[2·step], t[3·step]`.
PODIUM_INLINE void outputTransform(const Vector m[6], Vector *t, int step) {
  const Vector sum12 = m[1] + m[2], difference12 = m[1] - m[2], sum34 = m[3] + m[4], difference34 = m[3] - m[4];
  t[0] = m[0] + sum12 + sum34;
  t[step] = difference12 + 2 * difference34;
  t[2 * step] = sum12 + 4 * sum34;
  t[3 * step] = difference12 + 8 * difference34 + m[5];
}

/// `A · (y0 … y3)ᵀ`, written to `t[0], t[step], …, t[5·step]`.
PODIUM_INLINE void outputGradientTransform(const Vector y[4], Vector *t, int step) {
  const Vector even = y[0] + 4 * y[2], odd = 2 * y[1] + 8 * y[3];
  t[0] = y[0];
  t[step] = y[0] + y[1] + y[2] + y[3];
  t[2 * step] = y[0] - y[1] + y[2] - y[3];
  t[3 * step] = even + odd;
  t[4 * step] = even - odd;
  t[5 * step] = y[3];
}

/// `G · (a, b, c)ᵀ` for F(4×4, 3×3), written to `t[0], t[step], …`: the operations, in their
/// order, of the Swift transform this kernel replaced.
PODIUM_INLINE void filterTransform(Vector a, Vector b, Vector c, Vector *t, int step) {
  const Vector sumOuter = a + c, aOver24 = a / 24, bOver12 = b / 12, cOver6 = c / 6;
  t[0] = a / 4;
  t[step] = -(sumOuter + b) / 6;
  t[2 * step] = -(sumOuter - b) / 6;
  t[3 * step] = aOver24 + bOver12 + cOver6;
  t[4 * step] = aOver24 - bOver12 + cOver6;
  t[5 * step] = c;
}

/// Output channels `[o, o + width)` of input channel `c`'s filter transform (`width` ≤ 16, not
/// crossing a panel).
PODIUM_INLINE void filterBlock(long ic, long oc, long c, long o, long width, const float *weight, long pointStride,
                               long panelWidth, float *u) {
  Vector columns[18];
  for (long kw = 0; kw < 3; kw++) {
    const Vector top = loadSome(weight + (kw * ic + c) * oc + o, width);
    const Vector middle = loadSome(weight + ((3 + kw) * ic + c) * oc + o, width);
    const Vector bottom = loadSome(weight + ((6 + kw) * ic + c) * oc + o, width);
    filterTransform(top, middle, bottom, columns + kw * 6, 1);
  }
  const long offset = panelWidth > 0 ? ((o / panelWidth) * ic + c) * panelWidth + o % panelWidth : c * oc + o;
  for (long i = 0; i < 6; i++) {
    Vector row[6];
    filterTransform(columns[i], columns[6 + i], columns[12 + i], row, 1);
    for (long j = 0; j < 6; j++) storeSome(u + (i * 6 + j) * pointStride + offset, row[j], width);
  }
}

/// Channels `[c, c + width)` of one tile's input transform.
PODIUM_INLINE void inputBlock(const CChannelKernels_WinogradTile *t, const float *image, long c, long width, float *v) {
  const long channels = t->channels;
  Vector rows[36];
  for (long r = 0; r < 6; r++) {
    const long ih = t->top + r;
    Vector d[6];
    for (long k = 0; k < 6; k++) {
      const long iw = t->left + k;
      const int inside = ih >= 0 && ih < t->height && iw >= 0 && iw < t->width;
      d[k] = inside ? loadSome(image + (ih * t->width + iw) * channels + c, width) : (Vector)0;
    }
    inputTransform(d, rows + 6 * r, 1);
  }
  for (long j = 0; j < 6; j++) {
    const Vector column[6] = {rows[j], rows[6 + j], rows[12 + j], rows[18 + j], rows[24 + j], rows[30 + j]};
    Vector result[6];
    inputTransform(column, result, 1);
    for (long i = 0; i < 6; i++) storeSome(v + (i * 6 + j) * t->pointStride + c, result[i], width);
  }
}

/// Channels `[c, c + width)` of one tile's output transform, through `affine` and `addend`.
PODIUM_INLINE void outputBlock(const CChannelKernels_WinogradTile *t, const float *m, const CChannelKernels_Affine *affine,
                               const float *addend, long c, long width, float *image) {
  const long channels = t->channels;
  Vector rows[24];
  for (long r = 0; r < 6; r++) {
    Vector values[6];
    for (long j = 0; j < 6; j++) values[j] = loadSome(m + (r * 6 + j) * t->pointStride + c, width);
    outputTransform(values, rows + 4 * r, 1);
  }
  const long tileRows = minimum(4, t->height - t->top), tileColumns = minimum(4, t->width - t->left);
  for (long j = 0; j < tileColumns; j++) {
    const Vector column[6] = {rows[j], rows[4 + j], rows[8 + j], rows[12 + j], rows[16 + j], rows[20 + j]};
    Vector result[4];
    outputTransform(column, result, 1);
    for (long i = 0; i < tileRows; i++) {
      const long offset = ((t->top + i) * t->width + t->left + j) * channels + c;
      storeSome(image + offset, finishedAdding(result[i], affine, addend ? addend + offset : NULL, c, width), width);
    }
  }
}

/// Channels `[c, c + width)` of one tile's output-gradient transform.
PODIUM_INLINE void outputGradientBlock(const CChannelKernels_WinogradTile *t, const float *dY, long c, long width,
                                       float *dM) {
  const long channels = t->channels;
  const long tileRows = minimum(4, t->height - t->top), tileColumns = minimum(4, t->width - t->left);
  Vector rows[24];
  for (long i = 0; i < 4; i++) {
    Vector values[4];
    for (long j = 0; j < 4; j++) {
      const int inside = i < tileRows && j < tileColumns;
      values[j] = inside ? loadSome(dY + ((t->top + i) * t->width + t->left + j) * channels + c, width) : (Vector)0;
    }
    outputGradientTransform(values, rows + 6 * i, 1);
  }
  for (long k = 0; k < 6; k++) {
    const Vector column[4] = {rows[k], rows[6 + k], rows[12 + k], rows[18 + k]};
    Vector result[6];
    outputGradientTransform(column, result, 1);
    for (long i = 0; i < 6; i++) storeSome(dM + (i * 6 + k) * t->pointStride + c, result[i], width);
  }
}

#define PODIUM_WINOGRAD_ENTRY_POINTS(suffix, attributes)                                                          \
  attributes void CChannelKernels_winogradInputTile##suffix(const CChannelKernels_WinogradTile *t, const float *image, \
                                                            float *v) {                                           \
    for (long c = 0; c < t->channels; c += 16) inputBlock(t, image, c, minimum(16, t->channels - c), v);          \
  }                                                                                                               \
  attributes void CChannelKernels_winogradOutputTile##suffix(const CChannelKernels_WinogradTile *t, const float *m,   \
                                                             const CChannelKernels_Affine *affine,                \
                                                             const float *addend, float *image) {                 \
    for (long c = 0; c < t->channels; c += 16) {                                                                  \
      outputBlock(t, m, affine, addend, c, minimum(16, t->channels - c), image);                                  \
    }                                                                                                             \
  }                                                                                                               \
  attributes void CChannelKernels_winogradFilterRow##suffix(long ic, long oc, long c, const float *weight,          \
                                                            long pointStride, long panelWidth, float *u) {        \
    for (long o = 0; o < oc; o += 16) filterBlock(ic, oc, c, o, minimum(16, oc - o), weight, pointStride, panelWidth, u); \
  }                                                                                                               \
  attributes void CChannelKernels_winogradOutputGradientTile##suffix(const CChannelKernels_WinogradTile *t,       \
                                                                     const float *dY, float *dM) {                \
    for (long c = 0; c < t->channels; c += 16) outputGradientBlock(t, dY, c, minimum(16, t->channels - c), dM);   \
  }

PODIUM_WINOGRAD_ENTRY_POINTS(, )
#if defined(__x86_64__)
PODIUM_WINOGRAD_ENTRY_POINTS(_AVX512, __attribute__((target("avx512f,fma"))))
#endif
