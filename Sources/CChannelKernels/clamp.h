#ifndef PODIUM_CCHANNELKERNELS_CLAMP_H
#define PODIUM_CCHANNELKERNELS_CLAMP_H
// The ReLU/ReLU6 clamp on one value, shared by the batch-norm and the row kernels' scalar tails.

/// `value` limited to `[0, ceiling]`; NaN stays NaN.
static inline float clamped(float value, float ceiling) {
  float floor = value < 0 ? 0 : value;
  return floor > ceiling ? ceiling : floor;
}
#endif
