// Depthwise convolution's row kernels (see CChannelKernels.h). Every sum over taps (or, for
// the weight gradient, over a row of pixels) runs in registers. Where the channels come in
// whole 16-channel blocks and a 3×3 or 5×5 window moves by 1 or 2, pixels whose windows lie
// wholly inside the row go in groups of 4 or 8, one 16-channel block at a time: each input
// (or output-gradient) value is loaded once and multiplied into every pixel or tap of the
// group that uses it, so loads no longer outnumber multiply-adds (measured on this project's
// `dw3x3_32_112_fwd`: 4.6 → 3.6 ms with AVX-512). Elsewhere — edges, other windows, channel
// tails — sums go 64 channels at a time in four 16-lane vectors, then in smaller blocks, then
// channel by channel: the forward takes two neighbouring output pixels at once where their
// windows have the same valid taps, so each weight load serves both; the weight gradient sums
// alternate pixels separately for 16- and 32-channel blocks, so there are always four
// multiply-add chains. The body is written once with 16-lane vector types; the portable
// functions compile it for the build's ISA (two 8-lane registers per vector on AVX2), the
// `_AVX512` ones, with their own target attribute, to one zmm register per vector.
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

/// True when rows of `g` take groups of pixels (`forwardRow`, `weightGradientRow`, and at
/// stride 1 `inputGradientRow`): whole 16-channel blocks, square 3×3 or 5×5 windows, stride
/// 1 or 2.
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

/// One output row. Where the channels come in whole 16-channel blocks, runs of `group`
/// pixels whose windows lie wholly inside the row go through `forwardGroup`; the rest two
/// pixels at a time (where their windows have the same valid taps), else one.
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

/// Adds `Σ_pixels x · dY` for one tap to `target`, over every channel: 64, 32 and 16 at a
/// time, then one by one.
PODIUM_INLINE void tapSums(long pixels, const float *x, long step, const float *dy, long c, float *target) {
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

/// Adds to one kernel row's `kernel` taps (`target`, `c` floats apart) the products of
/// `pixels` output pixels (a multiple of `group`) whose windows lie wholly inside the input
/// row, for channels `[0, 16)` of the pointers: `x` is the first pixel's first tap's input,
/// `dy` its output gradient. A group's gradients stay in registers while each input value
/// is loaded once and multiplied into every tap that reads it, so there are fewer loads than
/// multiply-adds; alternate pixels add into separate sums, for more multiply-add chains.
PODIUM_INLINE void groupTapSums(int group, long kernel, long stride, long pixels, const float *x, const float *dy,
                                long c, float *target) {
  Vector sum[2][CChannelKernels_maximumKernel];
#pragma clang loop unroll(full)
  for (long j = 0; j < kernel; j++) sum[0][j] = loadVector(target + j * c), sum[1][j] = (Vector)0;
  for (long first = 0; first < pixels; first += group) {
    Vector gradient[8];
#pragma clang loop unroll(full)
    for (int p = 0; p < group; p++) gradient[p] = loadVector(dy + (first + p) * c);
#pragma clang loop unroll(full)
    for (long column = 0; column < (group - 1) * stride + kernel; column++) {
      const Vector value = loadVector(x + (first * stride + column) * c);
#pragma clang loop unroll(full)
      for (int p = 0; p < group; p++) {
        const long j = column - p * stride;
        if (j >= 0 && j < kernel) sum[p & 1][j] = fused(value, gradient[p], sum[p & 1][j]);
      }
    }
  }
#pragma clang loop unroll(full)
  for (long j = 0; j < kernel; j++) storeVector(target + j * c, sum[0][j] + sum[1][j]);
}

/// `groupTapSums` over every whole 16-channel block, unrolled for 3×3 and 5×5 windows at
/// strides 1 and 2.
PODIUM_INLINE void groupRowSums(int group, long kernel, long stride, long pixels, const float *x, const float *dy,
                                long c, float *target) {
  for (long ch = 0; ch + 16 <= c; ch += 16) {
    if (kernel == 3 && stride == 1) {
      groupTapSums(group, 3, 1, pixels, x + ch, dy + ch, c, target + ch);
    } else if (kernel == 3 && stride == 2) {
      groupTapSums(group, 3, 2, pixels, x + ch, dy + ch, c, target + ch);
    } else if (kernel == 5 && stride == 1) {
      groupTapSums(group, 5, 1, pixels, x + ch, dy + ch, c, target + ch);
    } else {
      groupTapSums(group, 5, 2, pixels, x + ch, dy + ch, c, target + ch);
    }
  }
}

/// Adds one output row's share of the weight gradient to `partial`. With `group` nonzero,
/// where `takesGroups`, the pixels whose windows lie wholly inside the row go in groups of
/// `group` through `groupRowSums`; the rest (and every pixel otherwise) tap by tap.
PODIUM_INLINE void weightGradientRow(const CChannelKernels_Window *g, const float *image, const float *dYRow, long oh,
                                     float *partial, int group) {
  const long c = g->channels, top = oh * g->stride - g->padTop, step = g->stride * c;
  long kh0, kh1;
  validTaps(top, g->kernelHeight, g->height, &kh0, &kh1);
  // Output columns [inside, inside + grouped) have every tap inside the row.
  const long inside = (g->padLeft + g->stride - 1) / g->stride;
  const long insideEnd = minimum(g->outWidth, (g->width - g->kernelWidth + g->padLeft) / g->stride + 1);
  const long grouped = group && takesGroups(g) && insideEnd > inside ? (insideEnd - inside) / group * group : 0;
  for (long kh = kh0; kh < kh1; kh++) {
    const float *inputRow = image + (top + kh) * g->width * c;
    float *rowTarget = partial + kh * g->kernelWidth * c;
    if (grouped > 0) {
      groupRowSums(group, g->kernelWidth, g->stride, grouped, inputRow + (inside * g->stride - g->padLeft) * c,
                   dYRow + inside * c, c, rowTarget);
    }
    for (long kw = 0; kw < g->kernelWidth; kw++) {
      // The output columns whose window puts tap kw inside the row: 0 ≤ ow·s − padLeft + kw < width.
      const long first = maximum(0, (g->padLeft - kw + g->stride - 1) / g->stride);
      const long last = g->width - 1 + g->padLeft - kw;
      const long end = last < 0 ? 0 : minimum(g->outWidth, last / g->stride + 1);
      // Those outside the groups: [first, inside) and [inside + grouped, end).
      const long spans[2][2] = {{first, grouped > 0 ? inside : end}, {grouped > 0 ? inside + grouped : end, end}};
      for (int span = 0; span < 2; span++) {
        const long from = spans[span][0], pixels = spans[span][1] - from;
        if (pixels <= 0) continue;
        tapSums(pixels, inputRow + (from * g->stride - g->padLeft + kw) * c, step, dYRow + from * c, c,
                rowTarget + kw * c);
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

/// The gathered gradients of `group` neighbouring input pixels of a stride-1 convolution whose
/// horizontal taps all read output columns inside the row, for channels `[ch, ch + 16)`: `dY`
/// points at the output gradient's column that the first pixel's last tap reads. Each
/// gradient value is loaded once and multiplied into every pixel it reaches, each weight once
/// per kernel row; every sum takes its taps in the order `gatherSums` does.
PODIUM_INLINE void groupGatherSums(int group, long kernel, const Reader *vertical, int verticalCount, const float *dY,
                                   const float *w, const CChannelKernels_Window *g, long ch, float *out, int stream) {
  const long c = g->channels;
  Vector sum[8];
  for (int p = 0; p < group; p++) sum[p] = (Vector)0;
  for (int v = 0; v < verticalCount; v++) {
    const float *gradientRow = dY + vertical[v].output * g->outWidth * c;
    Vector weights[CChannelKernels_maximumKernel];
#pragma clang loop unroll(full)
    for (long j = 0; j < kernel; j++) weights[j] = loadVector(w + (vertical[v].tap * kernel + j) * c + ch);
#pragma clang loop unroll(full)
    for (long column = group + kernel - 2; column >= 0; column--) {
      const Vector value = loadVector(gradientRow + column * c + ch);
#pragma clang loop unroll(full)
      for (int p = 0; p < group; p++) {
        const long j = p + kernel - 1 - column;
        if (j >= 0 && j < kernel) sum[p] = fused(value, weights[j], sum[p]);
      }
    }
  }
  for (int p = 0; p < group; p++) storeOutput(out + p * c + ch, sum[p], stream);
}

/// `groupGatherSums` over every whole 16-channel block, unrolled for 3×3 and 5×5 windows.
PODIUM_INLINE void gatherGroup(int group, const Reader *vertical, int verticalCount, const float *dY, const float *w,
                               const CChannelKernels_Window *g, float *out, int stream) {
  for (long ch = 0; ch + 16 <= g->channels; ch += 16) {
    if (g->kernelWidth == 3) {
      groupGatherSums(group, 3, vertical, verticalCount, dY, w, g, ch, out, stream);
    } else {
      groupGatherSums(group, 5, vertical, verticalCount, dY, w, g, ch, out, stream);
    }
  }
}

/// One input row of the input gradient. With `group` nonzero, for stride-1 convolutions that
/// `takesGroups`, runs of `group` pixels whose taps all read output columns inside the row go
/// through `gatherGroup`; the rest one pixel at a time.
PODIUM_INLINE void inputGradientRow(const CChannelKernels_Window *g, const float *dYImage, long ih,
                                    const float *weight, float *dXRow, int streaming, int group) {
  const int stream = streaming && streamable(dXRow, g->channels);
  const long c = g->channels, reach = g->kernelWidth - 1 - g->padLeft;
  const int groups = group && g->stride == 1 && takesGroups(g);
  Reader vertical[CChannelKernels_maximumKernel], horizontal[CChannelKernels_maximumKernel];
  const int verticalCount = readers(ih, g->kernelHeight, g->stride, g->padTop, g->outHeight, vertical);
  for (long iw = 0; iw < g->width;) {
    if (groups && iw >= reach && iw + group <= g->width && iw + group - 1 + g->padLeft < g->outWidth) {
      gatherGroup(group, vertical, verticalCount, dYImage + (iw - reach) * c, weight, g, dXRow + iw * c, stream);
      iw += group;
      continue;
    }
    const int horizontalCount = readers(iw, g->kernelWidth, g->stride, g->padLeft, g->outWidth, horizontal);
    gatherPixel(vertical, verticalCount, horizontal, horizontalCount, dYImage, weight, g, dXRow + iw * c, stream);
    iw++;
  }
  if (stream) finishStreaming();
}

// MARK: - Entry points, once per ISA

#define PODIUM_DEPTHWISE_ENTRY_POINTS(suffix, attributes, forwardGroupSize, gradientGroupSize)                    \
  attributes void CChannelKernels_depthwiseRow##suffix(const CChannelKernels_Window *g, const float *image, \
                                                       long oh, const float *weight,                        \
                                                       const CChannelKernels_Affine *affine, float *output, \
                                                       int streaming) {                                     \
    forwardRow(g, image, oh, weight, affine, output, streaming, forwardGroupSize);                          \
  }                                                                                                         \
  attributes void CChannelKernels_depthwiseWeightGradientRow##suffix(                                       \
      const CChannelKernels_Window *g, const float *image, const float *dYRow, long oh, float *partial) {   \
    weightGradientRow(g, image, dYRow, oh, partial, gradientGroupSize);                                     \
  }                                                                                                         \
  attributes void CChannelKernels_depthwiseInputGradientRow##suffix(                                        \
      const CChannelKernels_Window *g, const float *dYImage, long ih, const float *weight, float *dXRow,    \
      int streaming) {                                                                                      \
    inputGradientRow(g, dYImage, ih, weight, dXRow, streaming, gradientGroupSize);                          \
  }

// Groups of 4 pixels in the portable forward (its sums and weights fill AVX2's 16 registers),
// none in its gradients; groups of 8 everywhere with AVX-512's 32.
PODIUM_DEPTHWISE_ENTRY_POINTS(, , 4, 0)
#if defined(__x86_64__)
PODIUM_DEPTHWISE_ENTRY_POINTS(_AVX512, __attribute__((target("avx512f,fma"))), 8, 8)
#endif
