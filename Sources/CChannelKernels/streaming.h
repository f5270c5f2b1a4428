#ifndef PODIUM_CCHANNELKERNELS_STREAMING_H
#define PODIUM_CCHANNELKERNELS_STREAMING_H
// Helpers for the kernels' non-temporal stores (the `streaming` argument in CChannelKernels.h).
#include <stdint.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

/// Whether rows of `c` floats from `base` may be stored non-temporally: every 16-float
/// vector of every row 64-byte aligned.
static inline int streamable(const float *base, long c) { return c % 16 == 0 && ((uintptr_t)base & 63) == 0; }

/// Orders the non-temporal stores before whatever the caller does next.
static inline void finishStreaming(void) {
#if defined(__x86_64__)
  _mm_sfence();
#else
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}
#endif
