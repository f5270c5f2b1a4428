// Depthwise convolution's row kernels (see CChannelKernels.h). Every sum over taps (or, for
// the weight gradient, over a row of pixels) runs in registers, 64 channels at a time in
// four 16-lane vectors — four independent multiply-add chains — then 16 at a time, then
// one by one. The body is written once with 16-lane vector types; the portable functions
// compile it for the build's ISA (two 8-lane registers per vector on AVX2) and the
// `_AVX512` ones, with their own target attribute, to one zmm register per vector.
#include "CChannelKernels.h"

#include <string.h>

typedef float Vector __attribute__((ext_vector_type(16)));

// The helpers below pass vectors by value; they are always inlined, so no call ever uses
// the ABI the compiler warns about for 16-lane vectors without AVX-512.
#pragma clang diagnostic ignored "-Wpsabi"

#define PODIUM_INLINE static inline __attribute__((always_inline))

PODIUM_INLINE Vector loadVector(const float *p) {
  Vector v;
  memcpy(&v, p, sizeof v);
  return v;
}

PODIUM_INLINE void storeVector(float *p, Vector v) { memcpy(p, &v, sizeof v); }

PODIUM_INLINE Vector fused(Vector a, Vector b, Vector c) { return __builtin_elementwise_fma(a, b, c); }

PODIUM_INLINE long maximum(long a, long b) { return a > b ? a : b; }
PODIUM_INLINE long minimum(long a, long b) { return a < b ? a : b; }

/// The taps `[*first, *end)` of a window starting at input position `start` that fall inside `[0, extent)`.
PODIUM_INLINE void validTaps(long start, long kernel, long extent, long *first, long *end) {
  *first = maximum(0, -start);
  *end = minimum(kernel, extent - start);
}

// MARK: - Forward

/// The sum over the valid taps of one output pixel for channels `[ch, ch + 16·blocks)`;
/// `x` and `w` point at the first valid tap's input value and weight.
#define PODIUM_PIXEL_SUM(blocks)                                                          \
  {                                                                                       \
    Vector sum[blocks];                                                                   \
    for (int b = 0; b < blocks; b++) sum[b] = (Vector)0;                                  \
    for (long i = 0; i < rows; i++) {                                                     \
      const float *xr = x + i * g->width * c + ch, *wr = w + i * g->kernelWidth * c + ch; \
      for (long j = 0; j < columns; j++) {                                                \
        for (int b = 0; b < blocks; b++)                                                  \
          sum[b] = fused(loadVector(xr + j * c + 16 * b), loadVector(wr + j * c + 16 * b), sum[b]); \
      }                                                                                   \
    }                                                                                     \
    for (int b = 0; b < blocks; b++) storeVector(out + ch + 16 * b, sum[b]);              \
  }

PODIUM_INLINE void forwardRow(const CChannelKernels_Window *g, const float *image, long oh, const float *weight,
                              float *output) {
  const long c = g->channels, top = oh * g->stride - g->padTop;
  long kh0, kh1;
  validTaps(top, g->kernelHeight, g->height, &kh0, &kh1);
  const long rows = kh1 - kh0;
  for (long ow = 0; ow < g->outWidth; ow++) {
    const long left = ow * g->stride - g->padLeft;
    long kw0, kw1;
    validTaps(left, g->kernelWidth, g->width, &kw0, &kw1);
    const long columns = kw1 - kw0;
    const float *x = image + ((top + kh0) * g->width + left + kw0) * c;
    const float *w = weight + (kh0 * g->kernelWidth + kw0) * c;
    float *out = output + ow * c;
    long ch = 0;
    for (; ch + 64 <= c; ch += 64) PODIUM_PIXEL_SUM(4)
    for (; ch + 16 <= c; ch += 16) PODIUM_PIXEL_SUM(1)
    for (; ch < c; ch++) {
      float sum = 0;
      for (long i = 0; i < rows; i++) {
        for (long j = 0; j < columns; j++) sum += x[(i * g->width + j) * c + ch] * w[(i * g->kernelWidth + j) * c + ch];
      }
      out[ch] = sum;
    }
  }
}

// MARK: - Weight gradient

/// Adds `Σ_pixels x · dY` to `target` for channels `[ch, ch + 16·blocks)`.
#define PODIUM_TAP_ROW_SUM(blocks)                                                            \
  {                                                                                           \
    Vector sum[blocks];                                                                       \
    for (int b = 0; b < blocks; b++) sum[b] = loadVector(target + ch + 16 * b);               \
    for (long p = 0; p < pixels; p++) {                                                       \
      for (int b = 0; b < blocks; b++)                                                        \
        sum[b] = fused(loadVector(x + p * step + ch + 16 * b), loadVector(dy + p * c + ch + 16 * b), sum[b]); \
    }                                                                                         \
    for (int b = 0; b < blocks; b++) storeVector(target + ch + 16 * b, sum[b]);               \
  }

PODIUM_INLINE void weightGradientRow(const CChannelKernels_Window *g, const float *image, const float *dYRow, long oh,
                                     float *partial) {
  const long c = g->channels, top = oh * g->stride - g->padTop, step = g->stride * c;
  long kh0, kh1;
  validTaps(top, g->kernelHeight, g->height, &kh0, &kh1);
  for (long kh = kh0; kh < kh1; kh++) {
    const float *inputRow = image + (top + kh) * g->width * c;
    for (long kw = 0; kw < g->kernelWidth; kw++) {
      // The output columns whose window puts tap kw inside the row: 0 ≤ ow·s − padLeft + kw < width.
      const long first = maximum(0, (g->padLeft - kw + g->stride - 1) / g->stride);
      const long last = g->width - 1 + g->padLeft - kw;
      const long end = last < 0 ? 0 : minimum(g->outWidth, last / g->stride + 1);
      const long pixels = end - first;
      if (pixels <= 0) continue;
      const float *x = inputRow + (first * g->stride - g->padLeft + kw) * c, *dy = dYRow + first * c;
      float *target = partial + (kh * g->kernelWidth + kw) * c;
      long ch = 0;
      for (; ch + 64 <= c; ch += 64) PODIUM_TAP_ROW_SUM(4)
      for (; ch + 16 <= c; ch += 16) PODIUM_TAP_ROW_SUM(1)
      for (; ch < c; ch++) {
        float sum = target[ch];
        for (long p = 0; p < pixels; p++) sum += x[p * step + ch] * dy[p * c + ch];
        target[ch] = sum;
      }
    }
  }
}

// MARK: - Input gradient

/// A kernel tap and the output position whose window puts it on a given input position.
typedef struct {
  long tap, output;
} Reader;

/// The taps that read input position `input`: `output · stride − pad + tap == input`.
PODIUM_INLINE int readers(long input, long kernel, long stride, long pad, long outExtent, Reader *found) {
  int count = 0;
  for (long tap = 0; tap < kernel; tap++) {
    long offset = input + pad - tap;
    if (offset < 0 || offset % stride != 0 || offset / stride >= outExtent) continue;
    found[count++] = (Reader){tap, offset / stride};
  }
  return count;
}

/// The gathered gradient of one input pixel for channels `[ch, ch + 16·blocks)`.
#define PODIUM_GATHER(blocks)                                                                       \
  {                                                                                                 \
    Vector sum[blocks];                                                                             \
    for (int b = 0; b < blocks; b++) sum[b] = (Vector)0;                                            \
    for (int v = 0; v < verticalCount; v++) {                                                       \
      const float *gradientRow = dYImage + vertical[v].output * g->outWidth * c + ch;              \
      const float *weightRow = weight + vertical[v].tap * g->kernelWidth * c + ch;                 \
      for (int h = 0; h < horizontalCount; h++) {                                                   \
        for (int b = 0; b < blocks; b++)                                                            \
          sum[b] = fused(loadVector(gradientRow + horizontal[h].output * c + 16 * b),              \
                         loadVector(weightRow + horizontal[h].tap * c + 16 * b), sum[b]);           \
      }                                                                                             \
    }                                                                                               \
    for (int b = 0; b < blocks; b++) storeVector(out + ch + 16 * b, sum[b]);                        \
  }

PODIUM_INLINE void inputGradientRow(const CChannelKernels_Window *g, const float *dYImage, long ih,
                                    const float *weight, float *dXRow) {
  const long c = g->channels;
  Reader vertical[CChannelKernels_maximumKernel], horizontal[CChannelKernels_maximumKernel];
  const int verticalCount = readers(ih, g->kernelHeight, g->stride, g->padTop, g->outHeight, vertical);
  for (long iw = 0; iw < g->width; iw++) {
    const int horizontalCount = readers(iw, g->kernelWidth, g->stride, g->padLeft, g->outWidth, horizontal);
    float *out = dXRow + iw * c;
    long ch = 0;
    for (; ch + 64 <= c; ch += 64) PODIUM_GATHER(4)
    for (; ch + 16 <= c; ch += 16) PODIUM_GATHER(1)
    for (; ch < c; ch++) {
      float sum = 0;
      for (int v = 0; v < verticalCount; v++) {
        for (int h = 0; h < horizontalCount; h++) {
          sum += dYImage[(vertical[v].output * g->outWidth + horizontal[h].output) * c + ch]
              * weight[(vertical[v].tap * g->kernelWidth + horizontal[h].tap) * c + ch];
        }
      }
      out[ch] = sum;
    }
  }
}

// MARK: - Entry points, once per ISA

#define PODIUM_DEPTHWISE_ENTRY_POINTS(suffix, attributes)                                                   \
  attributes void CChannelKernels_depthwiseRow##suffix(const CChannelKernels_Window *g, const float *image, \
                                                       long oh, const float *weight, float *output) {       \
    forwardRow(g, image, oh, weight, output);                                                               \
  }                                                                                                         \
  attributes void CChannelKernels_depthwiseWeightGradientRow##suffix(                                       \
      const CChannelKernels_Window *g, const float *image, const float *dYRow, long oh, float *partial) {   \
    weightGradientRow(g, image, dYRow, oh, partial);                                                        \
  }                                                                                                         \
  attributes void CChannelKernels_depthwiseInputGradientRow##suffix(                                        \
      const CChannelKernels_Window *g, const float *dYImage, long ih, const float *weight, float *dXRow) {  \
    inputGradientRow(g, dYImage, ih, weight, dXRow);                                                        \
  }

PODIUM_DEPTHWISE_ENTRY_POINTS(, )
#if defined(__x86_64__)
PODIUM_DEPTHWISE_ENTRY_POINTS(_AVX512, __attribute__((target("avx512f,fma"))))
#endif
