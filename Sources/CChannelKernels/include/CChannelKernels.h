#ifndef PODIUM_CCHANNELKERNELS_H
#define PODIUM_CCHANNELKERNELS_H
// Podium's kernels over activations stored as `[rows × channels]` (NHWC images with
// `rows = N·H·W`) that work channel by channel: batch normalisation's statistics, its
// affine apply (with the ReLU/ReLU6 after it) and its backward, and depthwise convolution
// (one filter per channel) forward and backward, a row at a time; and, a row at a time too,
// the dense convolution of images with few channels (a network's first layer); and the tile
// transforms of Winograd convolution.
//
// Each kernel comes twice: a portable one, compiled for the build's ISA (AVX2 on x86-64),
// and an `_AVX512` one, compiled with its own target attribute and called only where the
// CPU has AVX-512F (`CMatrixKernels_hasAVX512`). The batch-norm kernels are plain loops the
// compiler vectorises and, for AVX-512, intrinsics; the depthwise and narrow-convolution
// kernels are one body each, written with 16-lane vector types and compiled twice. Both
// variants compute the same fused multiply-adds per value (so the clamp masks agree with the forward that clamped); sums may
// round differently.
//
// Clamps keep NaN (a NaN input gives a NaN output); a gradient "passes" a clamp where the
// recomputed value `x · maskScale + maskShift` lies strictly inside `(0, ceiling)`.
//
// `streaming` asks for non-temporal stores where the output is 64-byte aligned row by row
// (an output larger than the caches is written without first being read into them). The
// portable batch-norm kernels, plain loops left to the vectoriser, store plainly.

#ifdef __cplusplus
extern "C" {
#endif

/// The geometry of a depthwise convolution window over NHWC images (`channels` in and out).
typedef struct {
  long height, width, channels;
  long kernelHeight, kernelWidth, stride, padTop, padLeft;
  long outHeight, outWidth;
} CChannelKernels_Window;

/// What a forward row kernel does to each sum before storing it: `y = x · scale[c] + shift[c]`
/// (`scale` or `shift` NULL: 1 or 0), then limited to `[0, ceiling]` when `clamp` is nonzero.
typedef struct {
  const float *scale, *shift;
  int clamp;
  float ceiling;
} CChannelKernels_Affine;

/// The geometry of a dense convolution over NHWC images with `inChannels` in and `outChannels`
/// out, for the narrow-convolution row kernel.
typedef struct {
  long height, width, inChannels, outChannels;
  long kernelHeight, kernelWidth, stride, padTop, padLeft;
  long outWidth;
} CChannelKernels_DenseWindow;

/// One tile of a Winograd F(4×4, 3×3) convolution, for the transform kernels: the image it
/// reads (the input's 6×6 window) or writes (the output's 4×4 pixels) — `height × width`
/// pixels of `channels` values —, the tile's first row and column in it (negative, or
/// reaching past the image, where the window lies in the padding: those values count as
/// zero, those pixels are not written), and the floats between one transform point's matrix
/// and the next.
typedef struct {
  long height, width, channels;
  long top, left;
  long pointStride;
} CChannelKernels_WinogradTile;

/// The largest kernel side the depthwise kernels take.
enum { CChannelKernels_maximumKernel = 16 };

// Declares one variant's kernels, each name ending in `suffix`:
//
// - `blockMoments`: adds each column's sum of the `rows × c` block `x` to `mean`, divides by
//   `rows`, then adds each column's squared deviations from that mean to
//   `squaredDeviations`. Both outputs must be zero on entry.
// - `affine`: `y = x · scale + shift` per column, then limited to `[0, ceiling]` when `clamp`
//   is nonzero.
// - `batchNormGradientSums`: adds `Σ g` to `sums[0..<c]` and `Σ g · (x − mean) · invStd` to
//   `sums[c..<2c]`, where `g` is `dY`, or, when `maskScale` is not NULL, `dY` masked to 0
//   where `x · maskScale + maskShift` lies outside `(0, ceiling)`.
// - `batchNormInputGradient`: `dX = a · g + b · x + bias` per column, `g` as above.
// - `depthwiseRow`: output row `oh` of one image,
//   `output[ow, c] = Σ image[oh·s − padTop + kh, ow·s − padLeft + kw, c] · weight[kh, kw, c]`
//   over the taps inside the image, through `affine` (NULL: none); `image` is the image's row 0,
//   `output` the row.
// - `depthwiseWeightGradientRow`: adds output row `oh`'s share of the weight gradient to
//   `partial` (`[kh, kw, c]`): `Σ_ow image[oh·s − padTop + kh, ow·s − padLeft + kw, c] · dYRow[ow, c]`.
// - `depthwiseInputGradientRow`: input row `ih` of the input gradient, gathered:
//   `dXRow[iw, c] = Σ dYImage[oh, ow, c] · weight[kh, kw, c]` over the taps with
//   `oh·s − padTop + kh = ih` and `ow·s − padLeft + kw = iw`.
// - `narrowConvolutionRow`: output row `oh` of one image of a dense convolution,
//   `output[ow, o] = Σ image[oh·s − padTop + kh, ow·s − padLeft + kw, i] · weight[kh, kw, i, o]`
//   over the taps inside the image, through `affine` (NULL: none); made for few input channels
//   (a network's first layer).
// - `winogradInputTile`: `V = Bᵀ d B` of the tile's 6×6 input window `d` (`image` is the image's
//   row 0), every channel: point `ξ` of channel `c` at `v[ξ · pointStride + c]`.
// - `winogradOutputTile`: `Y = Aᵀ M A` of the tile (`M[ξ]` at `m[ξ · pointStride + c]`), every
//   channel, through `affine` (NULL: none) with `addend`'s values (laid out like `image`, NULL:
//   none) added before the clamp, written to the tile's pixels inside the image.
// - `winogradFilterRow`: `U = G g Gᵀ` of input channel `c`'s 3×3 filters `g` (tap `(kh, kw)` of
//   output channel `o` at `weight[(kh · 3 + kw) · ic · oc + c · oc + o]`), every output channel:
//   point `ξ` of channel `o` at `u[ξ · pointStride + c · oc + o]`, or, where `panelWidth` > 0 (a
//   multiple of 16), at `u[ξ · pointStride + ((o / panelWidth) · ic + c) · panelWidth + o % panelWidth]`
//   (the panel GEMM's packed layout).
// - `winogradOutputGradientTile`: `dM = A dY Aᵀ` of the tile's 4×4 output gradient (`dY` is the
//   gradient image's row 0; zero past its edge), every channel: point `ξ` at `dM[ξ · pointStride + c]`.
#define CCHANNELKERNELS_DECLARE(suffix)                                                                          \
  void CChannelKernels_blockMoments##suffix(long rows, long c, const float *x, float *mean,                       \
                                            float *squaredDeviations);                                           \
  void CChannelKernels_affine##suffix(long rows, long c, const float *x, const float *scale, const float *shift, \
                                      int clamp, float ceiling, float *y, int streaming);                        \
  void CChannelKernels_batchNormGradientSums##suffix(long rows, long c, const float *x, const float *dY,         \
                                                     const float *mean, const float *invStd,                     \
                                                     const float *maskScale, const float *maskShift,             \
                                                     float ceiling, float *sums);                                \
  void CChannelKernels_batchNormInputGradient##suffix(long rows, long c, const float *x, const float *dY,       \
                                                      const float *a, const float *b, const float *bias,         \
                                                      const float *maskScale, const float *maskShift,            \
                                                      float ceiling, float *dX, int streaming);                  \
  void CChannelKernels_depthwiseRow##suffix(const CChannelKernels_Window *g, const float *image, long oh,         \
                                            const float *weight, const CChannelKernels_Affine *affine,            \
                                            float *output, int streaming);                                       \
  void CChannelKernels_depthwiseWeightGradientRow##suffix(const CChannelKernels_Window *g, const float *image,   \
                                                          const float *dYRow, long oh, float *partial);          \
  void CChannelKernels_depthwiseInputGradientRow##suffix(const CChannelKernels_Window *g, const float *dYImage,  \
                                                         long ih, const float *weight, float *dXRow,             \
                                                         int streaming);                                 \
  void CChannelKernels_narrowConvolutionRow##suffix(const CChannelKernels_DenseWindow *g, const float *image,     \
                                                    long oh, const float *weight,                                 \
                                                    const CChannelKernels_Affine *affine, float *output);   \
  void CChannelKernels_winogradInputTile##suffix(const CChannelKernels_WinogradTile *t, const float *image,        \
                                                 float *v);                                                       \
  void CChannelKernels_winogradOutputTile##suffix(const CChannelKernels_WinogradTile *t, const float *m,          \
                                                  const CChannelKernels_Affine *affine, const float *addend,      \
                                                  float *image);                                                  \
  void CChannelKernels_winogradFilterRow##suffix(long ic, long oc, long c, const float *weight, long pointStride,  \
                                                 long panelWidth, float *u);                                      \
  void CChannelKernels_winogradOutputGradientTile##suffix(const CChannelKernels_WinogradTile *t, const float *dY, \
                                                          float *dM);

// The portable kernels.
CCHANNELKERNELS_DECLARE()

#if defined(__x86_64__)
// The AVX-512 kernels (call only where `CMatrixKernels_hasAVX512` is nonzero).
CCHANNELKERNELS_DECLARE(_AVX512)
#endif

#ifdef __cplusplus
}
#endif
#endif
