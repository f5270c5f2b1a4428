// Dense convolution of images with few channels — a network's first layer, RGB in and 32 or
// 64 channels out — a row of output pixels at a time, read straight from the image. The
// im2col product it replaces copies every window out and then multiplies with an inner
// dimension of only KH·KW·IC (27 for a 3×3 stem), too short to amortise OpenBLAS's packing.
// For a fixed kernel row, a window's KW·IC taps (one column and input channel each, tap
// `t = kw·IC + ic`) lie next to each other both in the image row and in the weight
// `[KH, KW, IC, OC]`, so each output pixel is one run of broadcast multiply-adds per kernel
// row. Neighbouring pixels share every weight load (as many as the variant's registers hold
// beside up to four 16-channel vectors of output channels), and the affine map and clamp are
// applied before the store. Written once with 16-lane vectors and compiled twice, as the
// depthwise kernels are.
#include "CChannelKernels.h"
#include "vectors.h"

/// The sums of `pixels` neighbouring output pixels, `pixelStep` floats apart in the input, for
/// output channels `[oc, oc + 16·blocks)`: over `kernelRows` rows, `rowStride` floats apart in
/// the input and `weightRowStride` in the weight, and `taps` taps of each, from `x` (the first
/// pixel's first tap) and `w` (that tap's weights for channel `oc`). Stored through `affine`
/// at `out`, `outChannels` floats per pixel. Called with constant `pixels` and `blocks`.
PODIUM_INLINE void narrowSums(int pixels, int blocks, const float *x, long pixelStep, long rowStride, long kernelRows,
                              long taps, const float *w, long weightRowStride, long outChannels,
                              const CChannelKernels_Affine *affine, long oc, float *out) {
  Vector sum[6][4];  // at most the widest group
  for (int p = 0; p < pixels; p++) {
    for (int b = 0; b < blocks; b++) sum[p][b] = (Vector)0;
  }
  for (long i = 0; i < kernelRows; i++) {
    const float *xRow = x + i * rowStride, *wRow = w + i * weightRowStride;
    for (long t = 0; t < taps; t++) {
      Vector weights[4];
      for (int b = 0; b < blocks; b++) weights[b] = loadVector(wRow + t * outChannels + 16 * b);
      for (int p = 0; p < pixels; p++) {
        Vector value = xRow[p * pixelStep + t];
        for (int b = 0; b < blocks; b++) sum[p][b] = fused(value, weights[b], sum[p][b]);
      }
    }
  }
  for (int p = 0; p < pixels; p++) {
    for (int b = 0; b < blocks; b++) storeVector(out + p * outChannels + 16 * b, finished(sum[p][b], affine, oc + 16 * b));
  }
}

/// Every output channel of `pixels` pixels (constant in each caller) whose windows have the
/// same valid taps: 64 channels at a time where `wide`, then 32, then 16, then one by one.
PODIUM_INLINE void narrowPixels(int pixels, int wide, const float *x, long pixelStep, long rowStride, long kernelRows,
                                long taps, const float *w, long weightRowStride, long outChannels,
                                const CChannelKernels_Affine *affine, float *out) {
  long oc = 0;
  if (wide) {
    for (; oc + 64 <= outChannels; oc += 64) {
      narrowSums(pixels, 4, x, pixelStep, rowStride, kernelRows, taps, w + oc, weightRowStride, outChannels, affine, oc,
                 out + oc);
    }
  }
  for (; oc + 32 <= outChannels; oc += 32) {
    narrowSums(pixels, 2, x, pixelStep, rowStride, kernelRows, taps, w + oc, weightRowStride, outChannels, affine, oc,
               out + oc);
  }
  for (; oc + 16 <= outChannels; oc += 16) {
    narrowSums(pixels, 1, x, pixelStep, rowStride, kernelRows, taps, w + oc, weightRowStride, outChannels, affine, oc,
               out + oc);
  }
  for (; oc < outChannels; oc++) {
    for (int p = 0; p < pixels; p++) {
      float sum = 0;
      for (long i = 0; i < kernelRows; i++) {
        for (long t = 0; t < taps; t++) sum += x[p * pixelStep + i * rowStride + t] * w[i * weightRowStride + t * outChannels + oc];
      }
      out[p * outChannels + oc] = finishedScalar(sum, affine, oc);
    }
  }
}

/// Output row `oh` of one image: runs of `group` pixels whose windows lie wholly inside the
/// image go together; the rest, whose windows reach past an edge, one at a time over their
/// valid taps.
PODIUM_INLINE void narrowRow(int group, int wide, const CChannelKernels_DenseWindow *g, const float *image, long oh,
                             const float *weight, const CChannelKernels_Affine *affine, float *output) {
  const long ic = g->inChannels, oc = g->outChannels, top = oh * g->stride - g->padTop;
  const long rowStride = g->width * ic, pixelStep = g->stride * ic, weightRowStride = g->kernelWidth * ic * oc;
  long kh0, kh1;
  validTaps(top, g->kernelHeight, g->height, &kh0, &kh1);
  const float *rows = image + (top + kh0) * rowStride, *weights = weight + kh0 * weightRowStride;
  for (long ow = 0; ow < g->outWidth;) {
    const long left = ow * g->stride - g->padLeft, lastLeft = left + (group - 1) * g->stride;
    long kw0, kw1;
    validTaps(left, g->kernelWidth, g->width, &kw0, &kw1);
    const float *x = rows + (left + kw0) * ic, *w = weights + kw0 * ic * oc;
    const long taps = (kw1 - kw0) * ic, kernelRows = kh1 - kh0;
    if (kw0 == 0 && ow + group <= g->outWidth && lastLeft + g->kernelWidth <= g->width) {
      narrowPixels(group, wide, x, pixelStep, rowStride, kernelRows, taps, w, weightRowStride, oc, affine, output + ow * oc);
      ow += group;
    } else {
      narrowPixels(1, wide, x, pixelStep, rowStride, kernelRows, taps, w, weightRowStride, oc, affine, output + ow * oc);
      ow += 1;
    }
  }
}

// Pixels per group: about 24 of AVX-512's 32 registers of sums at 64 channels, 12 of AVX2's 16
// at 32 (two registers per 16-lane vector; no 64-channel blocks there).
#define PODIUM_NARROW_ENTRY_POINT(suffix, attributes, group, wide)                                              \
  attributes void CChannelKernels_narrowConvolutionRow##suffix(const CChannelKernels_DenseWindow *g,            \
                                                               const float *image, long oh, const float *weight, \
                                                               const CChannelKernels_Affine *affine,            \
                                                               float *output) {                                  \
    narrowRow(group, wide, g, image, oh, weight, affine, output);                                               \
  }

PODIUM_NARROW_ENTRY_POINT(, , 3, 0)
#if defined(__x86_64__)
PODIUM_NARROW_ENTRY_POINT(_AVX512, __attribute__((target("avx512f,fma"))), 6, 1)
#endif
