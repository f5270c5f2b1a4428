import CChannelKernels

/// The row kernels of `CChannelKernels` — batch normalisation, depthwise convolution, the
/// narrow convolution of a network's first layer and Winograd's tile transforms — for the active ``MatrixKernels/Variant``:
/// the AVX-512 ones where it is `.avx512`, the portable ones (vectorised for the build's ISA)
/// otherwise.
struct ChannelKernels {
  typealias Input = UnsafePointer<Float>?
  typealias Output = UnsafeMutablePointer<Float>?
  typealias Window = UnsafePointer<CChannelKernels_Window>?
  typealias DenseWindow = UnsafePointer<CChannelKernels_DenseWindow>?
  /// A forward kernel's epilogue (nil: none).
  typealias Affine = UnsafePointer<CChannelKernels_Affine>?
  typealias WinogradTile = UnsafePointer<CChannelKernels_WinogradTile>?

  /// `(rows, c, x, mean, squaredDeviations)`: see `CChannelKernels_blockMoments`.
  let blockMoments: @convention(c) (Int, Int, Input, Output, Output) -> Void
  /// `(rows, c, x, scale, shift, clamp, ceiling, y, streaming)`: see `CChannelKernels_affine`.
  let affine: @convention(c) (Int, Int, Input, Input, Input, Int32, Float, Output, Int32) -> Void
  /// `(rows, c, x, dY, mean, invStd, maskScale, maskShift, ceiling, sums)`.
  let gradientSums: @convention(c) (Int, Int, Input, Input, Input, Input, Input, Input, Float, Output) -> Void
  /// `(rows, c, x, dY, a, b, bias, maskScale, maskShift, ceiling, dX, streaming)`.
  let inputGradient: @convention(c) (Int, Int, Input, Input, Input, Input, Input, Input, Input, Float, Output, Int32) -> Void
  /// `(window, image, oh, weight, affine, output, streaming)`: see `CChannelKernels_depthwiseRow`.
  let depthwiseRow: @convention(c) (Window, Input, Int, Input, Affine, Output, Int32) -> Void
  /// `(window, image, dYRow, oh, partial)`: see `CChannelKernels_depthwiseWeightGradientRow`.
  let depthwiseWeightGradientRow: @convention(c) (Window, Input, Input, Int, Output) -> Void
  /// `(window, dYImage, ih, weight, dXRow, streaming)`: see `CChannelKernels_depthwiseInputGradientRow`.
  let depthwiseInputGradientRow: @convention(c) (Window, Input, Int, Input, Output, Int32) -> Void
  /// `(window, image, oh, weight, affine, output)`: see `CChannelKernels_narrowConvolutionRow`.
  let narrowConvolutionRow: @convention(c) (DenseWindow, Input, Int, Input, Affine, Output) -> Void
  /// `(tile, image, v)`: see `CChannelKernels_winogradInputTile`.
  let winogradInputTile: @convention(c) (WinogradTile, Input, Output) -> Void
  /// `(tile, m, affine, addend, image)`: see `CChannelKernels_winogradOutputTile`.
  let winogradOutputTile: @convention(c) (WinogradTile, Input, Affine, Input, Output) -> Void
  /// `(tile, dY, dM)`: see `CChannelKernels_winogradOutputGradientTile`.
  let winogradOutputGradientTile: @convention(c) (WinogradTile, Input, Output) -> Void
  /// `(ic, oc, c, weight, pointStride, panelWidth, u)`: see `CChannelKernels_winogradFilterRow`.
  let winogradFilterRow: @convention(c) (Int, Int, Int, Input, Int, Int, Output) -> Void

  static let portable = ChannelKernels(
    blockMoments: CChannelKernels_blockMoments, affine: CChannelKernels_affine,
    gradientSums: CChannelKernels_batchNormGradientSums, inputGradient: CChannelKernels_batchNormInputGradient,
    depthwiseRow: CChannelKernels_depthwiseRow, depthwiseWeightGradientRow: CChannelKernels_depthwiseWeightGradientRow,
    depthwiseInputGradientRow: CChannelKernels_depthwiseInputGradientRow,
    narrowConvolutionRow: CChannelKernels_narrowConvolutionRow, winogradInputTile: CChannelKernels_winogradInputTile,
    winogradOutputTile: CChannelKernels_winogradOutputTile,
    winogradOutputGradientTile: CChannelKernels_winogradOutputGradientTile,
    winogradFilterRow: CChannelKernels_winogradFilterRow)

  #if arch(x86_64)
  static let avx512 = ChannelKernels(
    blockMoments: CChannelKernels_blockMoments_AVX512, affine: CChannelKernels_affine_AVX512,
    gradientSums: CChannelKernels_batchNormGradientSums_AVX512,
    inputGradient: CChannelKernels_batchNormInputGradient_AVX512,
    depthwiseRow: CChannelKernels_depthwiseRow_AVX512,
    depthwiseWeightGradientRow: CChannelKernels_depthwiseWeightGradientRow_AVX512,
    depthwiseInputGradientRow: CChannelKernels_depthwiseInputGradientRow_AVX512,
    narrowConvolutionRow: CChannelKernels_narrowConvolutionRow_AVX512,
    winogradInputTile: CChannelKernels_winogradInputTile_AVX512,
    winogradOutputTile: CChannelKernels_winogradOutputTile_AVX512,
    winogradOutputGradientTile: CChannelKernels_winogradOutputGradientTile_AVX512,
    winogradFilterRow: CChannelKernels_winogradFilterRow_AVX512)
  #endif

  /// The kernels of ``MatrixKernels/active``.
  static var active: ChannelKernels {
    #if arch(x86_64)
    if MatrixKernels.active == .avx512 { return avx512 }
    #endif
    return portable
  }

  /// Outputs of more floats than this (16 MiB, half the L3 cache of the machines measured)
  /// are written with non-temporal stores, which do not first read each line into the caches:
  /// measured on 2 threads, batch norm's input gradient ran 15–20% faster and its apply 20%.
  /// Smaller outputs stay in cache for the layer that reads them next. (The panel GEMM's
  /// outputs are not streamed: its forward ran 10–20% slower so.) Tests lower it to stream
  /// small outputs.
  nonisolated(unsafe) static var streamingThreshold = 1 << 22

  /// 1 when an output of `count` floats, not read again right away, should bypass the caches.
  static func streams(_ count: Int) -> Int32 { count > streamingThreshold ? 1 : 0 }
}
