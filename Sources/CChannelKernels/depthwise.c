// Depthwise convolution's row kernels (see CChannelKernels.h). Every sum over taps (or, for
// the weight gradient, over a row of pixels) runs in registers. In the forward, where the
// channels come in whole 16-channel blocks and a 3×3 or 5×5 window moves by 1 or 2, output
// pixels whose windows lie wholly inside the row go in groups of 4 or 8, one 16-channel block
// at a time: each input value is loaded once and multiplied into every pixel of the group
// whose window holds it, so loads no longer outnumber multiply-adds. (The same grouping in
// the two gradients, tried, made the training steps of MobileNetV2 and EfficientNet-Lite0 5%
// and 2% slower.) Elsewhere sums go 64 channels at a time in four 16-lane vectors, then in
// smaller blocks, then channel by channel: the forward takes two neighbouring output pixels
// at once where their windows have the same valid taps, so each weight load serves both; the
// weight gradient sums alternate pixels separately for 16- and 32-channel blocks, so there
// are always four multiply-add chains. The body is written once with 16-lane vector types;
// the portable functions compile it for the build's ISA (two 8-lane registers per vector on
// AVX2), the `_AVX512` ones, with their own target attribute, to one zmm register per vector.
#include "CChannelKernels.h"
#include "streaming.h"
#include "vectors.h"

// MARK: - Forward

/// The sums over `rows × columns` taps of `pixels` (1 or 2) neighbouring output pixels,
/// `pixelStep` floats apart in the input, for channels `[0, 16·blocks)`: `x` and `w` point at
/// the first pixel's first valid tap's input value and weight (at the block's first channel);
/// `rowStride` and `weightRowStride` step one tap down. Two pixels share each weight load and
/// give eight independent multiply-add chains. The sums are stored through `affine` from
/// channel `ch`. Called with constant `pixels`, `blocks` and, for whole windows, constant
/// `rows` and `columns`, which unroll the loops.
PODIUM_INLINE void windowSums(int pixels, int blocks, long rows, long columns, const float *x, long pixelStep,
                              long rowStride, const float *w, long weightRowStride, long c,
                              const CChannelKernels_Affine *affine, long ch, float *out, int stream) {
  Vector sum[2][4];
  for (int p = 0; p < pixels; p++) {
    for (int b = 0; b < blocks; b++) sum[p][b] = (Vector)0;
  }
  for (long i = 0; i < rows; i++) {
    for (long j = 0; j < columns; j++) {
      for (int b = 0; b < blocks; b++) {
        Vector weightVector = loadVector(w + i * weightRowStride + j * c + 16 * b);
        for (int p = 0; p < pixels; p++) {
          sum[p][b] = fused(loadVector(x + p * pixelStep + i * rowStride + j * c + 16 * b), weightVector, sum[p][b]);
        }
      }
    }
  }
  for (int p = 0; p < pixels; p++) {
    for (int b = 0; b < blocks; b++) storeOutput(out + p * c + 16 * b, finished(sum[p][b], affine, ch + 16 * b), stream);
  }
}

/// `windowSums` with the loops unrolled for whole 3×3 and 5×5 windows.
PODIUM_INLINE void unrolledWindowSums(int pixels, int blocks, long rows, long columns, const float *x, long pixelStep,
                                      long rowStride, const float *w, long weightRowStride, long c,
                                      const CChannelKernels_Affine *affine, long ch, float *out, int stream) {
  if (rows == 3 && columns == 3) {
    windowSums(pixels, blocks, 3, 3, x, pixelStep, rowStride, w, weightRowStride, c, affine, ch, out, stream);
  } else if (rows == 5 && columns == 5) {
    windowSums(pixels, blocks, 5, 5, x, pixelStep, rowStride, w, weightRowStride, c, affine, ch, out, stream);
  } else {
    windowSums(pixels, blocks, rows, columns, x, pixelStep, rowStride, w, weightRowStride, c, affine, ch, out, stream);
  }
}

/// Output pixels `[ow, ow + pixels)` of a row, whose windows have the same valid taps.
PODIUM_INLINE void forwardPixels(int pixels, long rows, long columns, const float *x, long pixelStep, long rowStride,
                                 const float *w, long weightRowStride, long c, const CChannelKernels_Affine *affine,
                                 float *out, int stream) {
  long ch = 0;
  for (; ch + 64 <= c; ch += 64) {
    unrolledWindowSums(pixels, 4, rows, columns, x + ch, pixelStep, rowStride, w + ch, weightRowStride, c, affine, ch,
                       out + ch, stream);
  }
  for (; ch + 16 <= c; ch += 16) {
    unrolledWindowSums(pixels, 1, rows, columns, x + ch, pixelStep, rowStride, w + ch, weightRowStride, c, affine, ch,
                       out + ch, stream);
  }
  for (; ch < c; ch++) {
    for (int p = 0; p < pixels; p++) {
      float sum = 0;
      for (long i = 0; i < rows; i++) {
        for (long j = 0; j < columns; j++) sum += x[p * pixelStep + i * rowStride + j * c + ch] * w[i * weightRowStride + j * c + ch];
      }
      out[p * c + ch] = finishedScalar(sum, affine, ch);
    }
  }
}

/// True when `forwardRow` takes rows of `g` in groups of pixels: whole 16-channel blocks,
/// square 3×3 or 5×5 windows, stride 1 or 2.
PODIUM_INLINE int takesGroups(const CChannelKernels_Window *g) {
  return g->channels % 16 == 0 && (g->kernelWidth == 3 || g->kernelWidth == 5) && g->kernelWidth == g->kernelHeight
      && (g->stride == 1 || g->stride == 2);
}

/// `group` neighbouring output pixels whose windows lie wholly inside the row, for channels
/// `[ch, ch + 16)`, with `group` multiply-add chains: each input value is loaded once and
/// multiplied into every pixel whose window holds it (a `kernel`-wide window, `stride`
/// apart), each weight once per kernel row, so there are fewer loads than multiply-adds.
/// Every sum takes its taps in the same order as `windowSums`, so the results are the same.
PODIUM_INLINE void groupSums(int group, long kernel, long stride, long rows, const float *x, long rowStride,
                             const float *w, long weightRowStride, long c, const CChannelKernels_Affine *affine,
                             long ch, float *out, int stream) {
  Vector sum[8];
  for (int p = 0; p < group; p++) sum[p] = (Vector)0;
  for (long i = 0; i < rows; i++) {
    Vector weights[CChannelKernels_maximumKernel];
#pragma clang loop unroll(full)
    for (long j = 0; j < kernel; j++) weights[j] = loadVector(w + i * weightRowStride + j * c + ch);
#pragma clang loop unroll(full)
    for (long column = 0; column < (group - 1) * stride + kernel; column++) {
      const Vector value = loadVector(x + i * rowStride + column * c + ch);
#pragma clang loop unroll(full)
      for (int p = 0; p < group; p++) {
        const long j = column - p * stride;
        if (j >= 0 && j < kernel) sum[p] = fused(value, weights[j], sum[p]);
      }
    }
  }
  for (int p = 0; p < group; p++) storeOutput(out + p * c + ch, finished(sum[p], affine, ch), stream);
}

/// `groupSums` over every whole 16-channel block, unrolled for 3×3 and 5×5 windows at
/// strides 1 and 2.
PODIUM_INLINE void forwardGroup(int group, long kernel, long stride, long rows, const float *x, long rowStride,
                                const float *w, long weightRowStride, long c, const CChannelKernels_Affine *affine,
                                float *out, int stream) {
  for (long ch = 0; ch + 16 <= c; ch += 16) {
    if (kernel == 3 && stride == 1) {
      groupSums(group, 3, 1, rows, x, rowStride, w, weightRowStride, c, affine, ch, out, stream);
    } else if (kernel == 3 && stride == 2) {
      groupSums(group, 3, 2, rows, x, rowStride, w, weightRowStride, c, affine, ch, out, stream);
    } else if (kernel == 5 && stride == 1) {
      groupSums(group, 5, 1, rows, x, rowStride, w, weightRowStride, c, affine, ch, out, stream);
    } else {
      groupSums(group, 5, 2, rows, x, rowStride, w, weightRowStride, c, affine, ch, out, stream);
    }
  }
}

/// One output row. Where `takesGroups`, runs of `group` pixels whose windows lie wholly
/// inside the row go through `forwardGroup`; the rest two pixels at a time (where their
/// windows have the same valid taps), else one.
PODIUM_INLINE void forwardRow(const CChannelKernels_Window *g, const float *image, long oh, const float *weight,
                              const CChannelKernels_Affine *affine, float *output, int streaming, int group) {
  const int stream = streaming && streamable(output, g->channels);
  const long c = g->channels, top = oh * g->stride - g->padTop, rowStride = g->width * c;
  const long weightRowStride = g->kernelWidth * c, pixelStep = g->stride * c;
  long kh0, kh1;
  validTaps(top, g->kernelHeight, g->height, &kh0, &kh1);
  const long rows = kh1 - kh0;
  const int groups = takesGroups(g);
  for (long ow = 0; ow < g->outWidth;) {
    const long left = ow * g->stride - g->padLeft;
    const long groupEnd = left + (group - 1) * g->stride + g->kernelWidth;
    if (groups && left >= 0 && ow + group <= g->outWidth && groupEnd <= g->width) {
      const float *x = image + ((top + kh0) * g->width + left) * c, *w = weight + kh0 * g->kernelWidth * c;
      float *out = output + ow * c;
      if (group == 8) {
        forwardGroup(8, g->kernelWidth, g->stride, rows, x, rowStride, w, weightRowStride, c, affine, out, stream);
      } else {
        forwardGroup(4, g->kernelWidth, g->stride, rows, x, rowStride, w, weightRowStride, c, affine, out, stream);
      }
      ow += group;
      continue;
    }
    long kw0, kw1, nextFirst, nextEnd;
    validTaps(left, g->kernelWidth, g->width, &kw0, &kw1);
    validTaps(left + g->stride, g->kernelWidth, g->width, &nextFirst, &nextEnd);
    // Two pixels at once where the next one's window has the same valid taps.
    const int pixels = ow + 1 < g->outWidth && nextFirst == kw0 && nextEnd == kw1 ? 2 : 1;
    const float *x = image + ((top + kh0) * g->width + left + kw0) * c;
    const float *w = weight + (kh0 * g->kernelWidth + kw0) * c;
    if (pixels == 2) {
      forwardPixels(2, rows, kw1 - kw0, x, pixelStep, rowStride, w, weightRowStride, c, affine, output + ow * c, stream);
    } else {
      forwardPixels(1, rows, kw1 - kw0, x, pixelStep, rowStride, w, weightRowStride, c, affine, output + ow * c, stream);
    }
    ow += pixels;
  }
  if (stream) finishStreaming();
}

// MARK: - Weight gradient

/// Adds `Σ_pixels x · dY` to `target` for channels `[0, 16·blocks)`, `x` stepping `step`
/// floats a pixel. Four multiply-add chains in all: with fewer than four blocks, alternate
/// pixels go to separate sums, added at the end.
PODIUM_INLINE void tapRowSums(int blocks, long pixels, const float *x, long step, const float *dy, long c,
                              float *target) {
  const int splits = 4 / blocks;
  Vector sum[4][4];
  for (int s = 0; s < splits; s++) {
    for (int b = 0; b < blocks; b++) sum[s][b] = s == 0 ? loadVector(target + 16 * b) : (Vector)0;
  }
  long p = 0;
  for (; p + splits <= pixels; p += splits) {
    for (int s = 0; s < splits; s++) {
      for (int b = 0; b < blocks; b++) {
        sum[s][b] = fused(loadVector(x + (p + s) * step + 16 * b), loadVector(dy + (p + s) * c + 16 * b), sum[s][b]);
      }
    }
  }
  for (; p < pixels; p++) {
    for (int b = 0; b < blocks; b++) sum[0][b] = fused(loadVector(x + p * step + 16 * b), loadVector(dy + p * c + 16 * b), sum[0][b]);
  }
  for (int b = 0; b < blocks; b++) {
    for (int s = 1; s < splits; s++) sum[0][b] += sum[s][b];
    storeVector(target + 16 * b, sum[0][b]);
  }
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
      for (; ch + 64 <= c; ch += 64) tapRowSums(4, pixels, x + ch, step, dy + ch, c, target + ch);
      for (; ch + 32 <= c; ch += 32) tapRowSums(2, pixels, x + ch, step, dy + ch, c, target + ch);
      for (; ch + 16 <= c; ch += 16) tapRowSums(1, pixels, x + ch, step, dy + ch, c, target + ch);
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

/// The gathered gradient of one input pixel for channels `[0, 16·blocks)`: `dY` and `w`
/// point at the block's first channel of the image's output gradient and of the weight.
/// (Two pixels at a time, sharing weight loads, ran faster on cached activations but up to
/// 1.7× slower on ones streamed from memory, as in training.)
PODIUM_INLINE void gatherSums(int blocks, const Reader *vertical, int verticalCount, const Reader *horizontal,
                              int horizontalCount, const float *dY, const float *w, const CChannelKernels_Window *g,
                              float *out, int stream) {
  const long c = g->channels;
  Vector sum[4];
  for (int b = 0; b < blocks; b++) sum[b] = (Vector)0;
  for (int v = 0; v < verticalCount; v++) {
    const float *gradientRow = dY + vertical[v].output * g->outWidth * c;
    const float *weightRow = w + vertical[v].tap * g->kernelWidth * c;
    for (int h = 0; h < horizontalCount; h++) {
      for (int b = 0; b < blocks; b++) {
        sum[b] = fused(loadVector(gradientRow + horizontal[h].output * c + 16 * b),
                       loadVector(weightRow + horizontal[h].tap * c + 16 * b), sum[b]);
      }
    }
  }
  for (int b = 0; b < blocks; b++) storeOutput(out + 16 * b, sum[b], stream);
}

/// One input pixel of a row (see `gatherSums`), 64, 32 and 16 channels at a time, then one by one.
PODIUM_INLINE void gatherPixel(const Reader *vertical, int verticalCount, const Reader *horizontal, int horizontalCount,
                               const float *dY, const float *weight, const CChannelKernels_Window *g, float *out,
                               int stream) {
  const long c = g->channels;
  long ch = 0;
  for (; ch + 64 <= c; ch += 64) {
    gatherSums(4, vertical, verticalCount, horizontal, horizontalCount, dY + ch, weight + ch, g, out + ch, stream);
  }
  for (; ch + 32 <= c; ch += 32) {
    gatherSums(2, vertical, verticalCount, horizontal, horizontalCount, dY + ch, weight + ch, g, out + ch, stream);
  }
  for (; ch + 16 <= c; ch += 16) {
    gatherSums(1, vertical, verticalCount, horizontal, horizontalCount, dY + ch, weight + ch, g, out + ch, stream);
  }
  for (; ch < c; ch++) {
    float sum = 0;
    for (int v = 0; v < verticalCount; v++) {
      for (int h = 0; h < horizontalCount; h++) {
        sum += dY[(vertical[v].output * g->outWidth + horizontal[h].output) * c + ch]
            * weight[(vertical[v].tap * g->kernelWidth + horizontal[h].tap) * c + ch];
      }
    }
    out[ch] = sum;
  }
}

PODIUM_INLINE void inputGradientRow(const CChannelKernels_Window *g, const float *dYImage, long ih,
                                    const float *weight, float *dXRow, int streaming) {
  const int stream = streaming && streamable(dXRow, g->channels);
  Reader vertical[CChannelKernels_maximumKernel], horizontal[CChannelKernels_maximumKernel];
  const int verticalCount = readers(ih, g->kernelHeight, g->stride, g->padTop, g->outHeight, vertical);
  for (long iw = 0; iw < g->width; iw++) {
    const int horizontalCount = readers(iw, g->kernelWidth, g->stride, g->padLeft, g->outWidth, horizontal);
    gatherPixel(vertical, verticalCount, horizontal, horizontalCount, dYImage, weight, g, dXRow + iw * g->channels, stream);
  }
  if (stream) finishStreaming();
}

// MARK: - Entry points, once per ISA

#define PODIUM_DEPTHWISE_ENTRY_POINTS(suffix, attributes, group)                                            \
  attributes void CChannelKernels_depthwiseRow##suffix(const CChannelKernels_Window *g, const float *image, \
                                                       long oh, const float *weight,                        \
                                                       const CChannelKernels_Affine *affine, float *output, \
                                                       int streaming) {                                     \
    forwardRow(g, image, oh, weight, affine, output, streaming, group);                                     \
  }                                                                                                         \
  attributes void CChannelKernels_depthwiseWeightGradientRow##suffix(                                       \
      const CChannelKernels_Window *g, const float *image, const float *dYRow, long oh, float *partial) {   \
    weightGradientRow(g, image, dYRow, oh, partial);                                                        \
  }                                                                                                         \
  attributes void CChannelKernels_depthwiseInputGradientRow##suffix(                                        \
      const CChannelKernels_Window *g, const float *dYImage, long ih, const float *weight, float *dXRow,    \
      int streaming) {                                                                                      \
    inputGradientRow(g, dYImage, ih, weight, dXRow, streaming);                                             \
  }

// Groups of 4 pixels in the portable forward (its sums and weights fill AVX2's 16 registers),
// of 8 with AVX-512's 32.
PODIUM_DEPTHWISE_ENTRY_POINTS(, , 4)
#if defined(__x86_64__)
PODIUM_DEPTHWISE_ENTRY_POINTS(_AVX512, __attribute__((target("avx512f,fma"))), 8)
#endif
