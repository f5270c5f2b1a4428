// Podium's AVX-512 panel GEMM and transposed product against OpenBLAS's cblas_sgemm on one
// core, on the 1×1 convolution shapes of ResNet-50 and MobileNetV2 at batch 32 (rows = N·H·W,
// k = input channels, n = output channels): the forward product, then the weight gradient
// (C[k × n] += Aᵀ·B over the rows). Best of 5, GFLOP/s, and the largest difference between
// the two results. Build and run from the repository root:
//
//   clang -O3 -march=haswell -ISources/CMatrixKernels/include Sources/CMatrixKernels/panel_gemm.c \
//     scripts/bench/panel_gemm_vs_openblas.c -lopenblas -o /tmp/panel_gemm_vs_openblas
//   env -u OPENBLAS_CORETYPE OPENBLAS_NUM_THREADS=1 /tmp/panel_gemm_vs_openblas
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "CMatrixKernels.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static float *randomMatrix(long count) {
  float *values = aligned_alloc(64, (size_t)(count * 4 + 64) / 64 * 64);
  for (long i = 0; i < count; i++) values[i] = (float)(rand() % 1000) / 1000.0f - 0.5f;
  return values;
}

/// One table row: the shape, both sides' GFLOP/s (Podium's in a column `width` wide) from
/// their best times, and the largest difference between their `count` results.
static void printRow(long m, long k, long n, double openBLAS, double podium, int width, const float *expected,
                     const float *actual, long count) {
  double difference = 0, flops = 2.0 * m * n * k;
  for (long i = 0; i < count; i++) difference = fmax(difference, fabs(expected[i] - actual[i]));
  printf("%6ld %5ld %5ld %10.1f %*.1f  %g\n", m, k, n, flops / openBLAS / 1e9, width, flops / podium / 1e9, difference);
}

static long blockFloats = 1 << 17, splitRows = 0;
static void blockedTransposedProduct(long m, long n, long k, const float *a, long lda, const float *b, long ldb, float *c, long ldc) {
  long rowsPerBlock = m, columnsPerBlock = n;
  if (splitRows) { while (rowsPerBlock * n > blockFloats && rowsPerBlock > 16) rowsPerBlock = (rowsPerBlock + 1) / 2; }
  else { while (m * columnsPerBlock > blockFloats && columnsPerBlock > 64) columnsPerBlock /= 2; }
  for (long i = 0; i < m; i += rowsPerBlock)
    for (long j = 0; j < n; j += columnsPerBlock)
      CMatrixKernels_addTransposedProduct_AVX512(rowsPerBlock < m - i ? rowsPerBlock : m - i, columnsPerBlock < n - j ? columnsPerBlock : n - j, k, a + i, lda, b + j, ldb, c + i * ldc + j, ldc);
}

int main(int argc, char **argv) {
  if (argc > 1) blockFloats = atol(argv[1]);
  if (argc > 2) splitRows = atol(argv[2]);
  if (!CMatrixKernels_hasAVX512()) {
    fprintf(stderr, "this CPU has no AVX-512\n");
    return 1;
  }
  const long shapes[][3] = {
    {100352, 64, 256}, {100352, 256, 64}, {25088, 512, 128}, {25088, 128, 512}, {6272, 1024, 256},
    {6272, 256, 1024}, {1568, 2048, 512}, {1568, 512, 2048}, {401408, 16, 96}, {100352, 24, 144},
    {100352, 144, 24}, {25088, 32, 192}, {6272, 96, 576}, {1568, 320, 1280},
  };
  printf("rows      k     n   OpenBLAS  panel GEMM  max |difference|\n");
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    long m = shapes[s][0], k = shapes[s][1], n = shapes[s][2];
    float *a = randomMatrix(m * k), *b = randomMatrix(k * n);
    float *expected = randomMatrix(m * n), *actual = randomMatrix(m * n);
    float *packed = randomMatrix(CMatrixKernels_packedCount(k, n));
    double openBLAS = 1e9, panels = 1e9;
    for (int repeat = 0; repeat < 5; repeat++) {
      double t0 = now();
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1, a, k, b, n, 0, expected, n);
      double t1 = now();
      CMatrixKernels_packPanels(b, n, 0, k, n, packed);
      CMatrixKernels_panelGEMM_AVX512(m, n, k, a, k, packed, actual, n, NULL, NULL, NULL, 0, 0, 0, 0);
      double t2 = now();
      openBLAS = fmin(openBLAS, t1 - t0);
      panels = fmin(panels, t2 - t1);
    }
    printRow(m, k, n, openBLAS, panels, 11, expected, actual, m * n);
    free(a), free(b), free(expected), free(actual), free(packed);
  }
  printf("\nweight gradients\nrows      k     n   OpenBLAS  transposed product  max |difference|\n");
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    long m = shapes[s][0], k = shapes[s][1], n = shapes[s][2];
    float *a = randomMatrix(m * k), *b = randomMatrix(m * n);
    float *expected = randomMatrix(k * n), *actual = randomMatrix(k * n);
    double openBLAS = 1e9, ours = 1e9;
    for (int repeat = 0; repeat < 5; repeat++) {
      for (long i = 0; i < k * n; i++) expected[i] = actual[i] = 0;
      double t0 = now();
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, n, m, 1, a, k, b, n, 1, expected, n);
      double t1 = now();
      blockedTransposedProduct(k, n, m, a, k, b, n, actual, n);
      double t2 = now();
      openBLAS = fmin(openBLAS, t1 - t0);
      ours = fmin(ours, t2 - t1);
    }
    printRow(m, k, n, openBLAS, ours, 19, expected, actual, k * n);
    free(a), free(b), free(expected), free(actual);
  }
  return 0;
}
