#ifndef PODIUM_CCHANNELKERNELS_H
#define PODIUM_CCHANNELKERNELS_H
// Podium's kernels over activations stored as `[rows × channels]` (NHWC images with
// `rows = N·H·W`) that work channel by channel: batch normalisation's statistics, its
// affine apply (with the ReLU/ReLU6 after it) and its backward, and depthwise convolution
// (one filter per channel) forward and backward, a row at a time.
//
// Each kernel comes twice: a portable one, plain loops the compiler vectorises for the
// build's ISA (AVX2 on x86-64), and one written with AVX-512 intrinsics (`_AVX512`),
// compiled with its own target attribute and called only where the CPU has AVX-512F. Both
// compute the same expressions in the same order per value; sums may round differently.
//
// Clamps keep NaN (a NaN input gives a NaN output); a gradient "passes" a clamp where the
// recomputed value `x · maskScale + shift` lies strictly inside `(0, ceiling)`.
//
// `streaming` asks for non-temporal stores where the output is 64-byte aligned row by row
// (an output larger than the caches is written without first being read into them).

#ifdef __cplusplus
extern "C" {
#endif

/// Adds each column's sum of the `rows × c` block `x` to `mean`, divides by `rows`, then
/// adds each column's squared deviations from that mean to `squaredDeviations`. Both
/// outputs must be zero on entry.
void CChannelKernels_blockMoments(long rows, long c, const float *x, float *mean, float *squaredDeviations);

/// `y = x · scale + shift` per column, then limited to `[0, ceiling]` when `clamp` is nonzero.
void CChannelKernels_affine(long rows, long c, const float *x, const float *scale, const float *shift, int clamp,
                            float ceiling, float *y, int streaming);

/// Adds `Σ g` to `sums[0..<c]` and `Σ g · (x − mean) · invStd` to `sums[c..<2c]`, where `g`
/// is `dY`, or, when `maskScale` is not NULL, `dY` masked to 0 where
/// `x · maskScale + maskShift` lies outside `(0, ceiling)`.
void CChannelKernels_batchNormGradientSums(long rows, long c, const float *x, const float *dY, const float *mean,
                                           const float *invStd, const float *maskScale, const float *maskShift,
                                           float ceiling, float *sums);

/// `dX = a · g + b · x + bias` per column, with `g` as in `batchNormGradientSums`.
void CChannelKernels_batchNormInputGradient(long rows, long c, const float *x, const float *dY, const float *a,
                                            const float *b, const float *bias, const float *maskScale,
                                            const float *maskShift, float ceiling, float *dX, int streaming);

/// The geometry of a depthwise convolution window over NHWC images (`channels` in and out).
typedef struct {
  long height, width, channels;
  long kernelHeight, kernelWidth, stride, padTop, padLeft;
  long outHeight, outWidth;
} CChannelKernels_Window;

/// The largest kernel side the depthwise kernels take.
enum { CChannelKernels_maximumKernel = 16 };

/// Output row `oh` of one image: `output[ow, c] = Σ image[oh·s − padTop + kh, ow·s − padLeft + kw, c] · weight[kh, kw, c]`
/// over the taps inside the image. `image` is the image's row 0; `output` the row.
void CChannelKernels_depthwiseRow(const CChannelKernels_Window *g, const float *image, long oh, const float *weight,
                                  float *output, int streaming);

/// Adds output row `oh`'s share of the weight gradient to `partial` (`[kh, kw, c]`):
/// `Σ_ow image[oh·s − padTop + kh, ow·s − padLeft + kw, c] · dYRow[ow, c]`.
void CChannelKernels_depthwiseWeightGradientRow(const CChannelKernels_Window *g, const float *image,
                                                const float *dYRow, long oh, float *partial);

/// Input row `ih` of the input gradient, gathered: `dXRow[iw, c] = Σ dYImage[oh, ow, c] · weight[kh, kw, c]`
/// over the taps with `oh·s − padTop + kh = ih` and `ow·s − padLeft + kw = iw`.
void CChannelKernels_depthwiseInputGradientRow(const CChannelKernels_Window *g, const float *dYImage, long ih,
                                               const float *weight, float *dXRow, int streaming);

#if defined(__x86_64__)
// The AVX-512 kernels (call only where `CMatrixKernels_hasAVX512` is nonzero).
void CChannelKernels_blockMoments_AVX512(long rows, long c, const float *x, float *mean, float *squaredDeviations);
void CChannelKernels_affine_AVX512(long rows, long c, const float *x, const float *scale, const float *shift, int clamp,
                                   float ceiling, float *y, int streaming);
void CChannelKernels_batchNormGradientSums_AVX512(long rows, long c, const float *x, const float *dY, const float *mean,
                                                  const float *invStd, const float *maskScale, const float *maskShift,
                                                  float ceiling, float *sums);
void CChannelKernels_batchNormInputGradient_AVX512(long rows, long c, const float *x, const float *dY, const float *a,
                                                   const float *b, const float *bias, const float *maskScale,
                                                   const float *maskShift, float ceiling, float *dX, int streaming);
void CChannelKernels_depthwiseRow_AVX512(const CChannelKernels_Window *g, const float *image, long oh,
                                         const float *weight, float *output, int streaming);
void CChannelKernels_depthwiseWeightGradientRow_AVX512(const CChannelKernels_Window *g, const float *image,
                                                       const float *dYRow, long oh, float *partial);
void CChannelKernels_depthwiseInputGradientRow_AVX512(const CChannelKernels_Window *g, const float *dYImage, long ih,
                                                      const float *weight, float *dXRow, int streaming);
#endif

#ifdef __cplusplus
}
#endif
#endif
