#ifndef PODIUM_CCHANNELKERNELS_VECTORS_H
#define PODIUM_CCHANNELKERNELS_VECTORS_H
// The 16-lane vector type and helpers of the kernels written once and compiled twice
// (depthwise.c, narrow_convolution.c, winograd.c): two 8-lane registers per vector on AVX2, one zmm
// register with AVX-512.
#include "CChannelKernels.h"
#include "clamp.h"

#include <string.h>

typedef float Vector __attribute__((ext_vector_type(16)));
typedef int Mask __attribute__((ext_vector_type(16)));

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

/// Stores `v` at `p` (64-byte aligned when `stream`), non-temporally when `stream`.
PODIUM_INLINE void storeOutput(float *p, Vector v, int stream) {
  if (stream) {
    __builtin_nontemporal_store(v, (Vector *)p);
  } else {
    storeVector(p, v);
  }
}

PODIUM_INLINE Vector fused(Vector a, Vector b, Vector c) { return __builtin_elementwise_fma(a, b, c); }

/// `v` where `mask` is false, `w` where it is true.
PODIUM_INLINE Vector blend(Mask mask, Vector w, Vector v) { return (Vector)(((Mask)v & ~mask) | ((Mask)w & mask)); }

/// `v` limited to `[0, ceiling]`; the clamp compares, so NaN fails both tests and stays NaN,
/// as in the batch-norm kernels.
PODIUM_INLINE Vector clampedVector(Vector v, float ceiling) {
  v = blend(v < (Vector)0, (Vector)0, v);
  return blend(v > (Vector)ceiling, (Vector)ceiling, v);
}

/// The first `width` (at most 16) values at `p`, the rest zero.
PODIUM_INLINE Vector loadSome(const float *p, long width) {
  if (width == 16) return loadVector(p);
  float values[16] = {0};
  memcpy(values, p, (size_t)width * sizeof(float));
  return loadVector(values);
}

/// Stores the first `width` (at most 16) lanes of `v` at `p`.
PODIUM_INLINE void storeSome(float *p, Vector v, long width) {
  if (width == 16) {
    storeVector(p, v);
    return;
  }
  float values[16];
  storeVector(values, v);
  memcpy(p, values, (size_t)width * sizeof(float));
}

/// `y = v · scale + shift + addend`, then clamped, for the `width` channels from channel `ch`:
/// the epilogue as ``ChannelEpilogue`` applies it (`affine` NULL: none; `addend`, the values
/// of these channels to add, NULL: none).
PODIUM_INLINE Vector finishedAdding(Vector v, const CChannelKernels_Affine *affine, const float *addend, long ch,
                                    long width) {
  if (affine && affine->scale) v *= loadSome(affine->scale + ch, width);
  if (affine && affine->shift) v += loadSome(affine->shift + ch, width);
  if (addend) v += loadSome(addend, width);
  return affine && affine->clamp ? clampedVector(v, affine->ceiling) : v;
}

/// `affine` applied to the sums `v` of 16 channels from channel `ch` (NULL: `v`).
PODIUM_INLINE Vector finished(Vector v, const CChannelKernels_Affine *affine, long ch) {
  return finishedAdding(v, affine, NULL, ch, 16);
}

/// The scalar form of `finished`, for channels past the last whole block.
PODIUM_INLINE float finishedScalar(float v, const CChannelKernels_Affine *affine, long ch) {
  if (!affine) return v;
  if (affine->scale) v *= affine->scale[ch];
  if (affine->shift) v += affine->shift[ch];
  return affine->clamp ? clamped(v, affine->ceiling) : v;
}

PODIUM_INLINE long maximum(long a, long b) { return a > b ? a : b; }
PODIUM_INLINE long minimum(long a, long b) { return a < b ? a : b; }

/// The taps `[*first, *end)` of a window starting at input position `start` that fall inside `[0, extent)`.
PODIUM_INLINE void validTaps(long start, long kernel, long extent, long *first, long *end) {
  *first = maximum(0, -start);
  *end = minimum(kernel, extent - start);
}
#endif
