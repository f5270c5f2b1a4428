import CChannelKernels

/// Dense convolution of images with few channels — a network's first layer, RGB in — read
/// straight from the image a row of output pixels at a time (`CChannelKernels`'
/// narrow-convolution row kernel), with the epilogue in the kernel's registers. The im2col
/// product it replaces copies every window out, then multiplies with an inner dimension of
/// only KH·KW·IC (27 for MobileNetV2's and EfficientNet-Lite's 3×3 stems), too short for
/// OpenBLAS to amortise its packing, and applies the epilogue in a second pass.

extension ConvGeometry {
  /// The most input channels ``narrowConvolutionForward(input:weight:output:geometry:epilogue:)`` takes.
  static let mostNarrowInputChannels = 4

  /// True when ``conv2dForward(input:weight:output:geometry:epilogue:moments:)`` reads the
  /// windows in place: at most ``mostNarrowInputChannels`` input channels, not a 1×1 stride-1
  /// convolution (a GEMM with nothing to copy), and windows of fewer values than a GEMM's inner
  /// dimension needs (``MatrixKernels/minimumInnerDimension``) — or any window where the
  /// AVX-512 kernels run. ResNet's 7×7 first layer (147 values a window) stays on `im2col` and a
  /// GEMM with the portable kernels, which ran it 50% slower than OpenBLAS; the AVX-512 kernel
  /// ran it 10% faster than the panel GEMM.
  var suitsNarrowConvolution: Bool {
    inChannels <= Self.mostNarrowInputChannels && !isPointwise
      && (patchSize < MatrixKernels.minimumInnerDimension || MatrixKernels.active == .avx512)
  }

  /// The geometry as the narrow-convolution row kernel takes it.
  var denseWindow: CChannelKernels_DenseWindow {
    CChannelKernels_DenseWindow(
      height: height, width: width, inChannels: inChannels, outChannels: outChannels, kernelHeight: kernelHeight,
      kernelWidth: kernelWidth, stride: stride, padTop: padTop, padLeft: padLeft, outWidth: outWidth)
  }
}

/// Computes `output = epilogue(conv(input, weight))` for a geometry that
/// ``ConvGeometry/suitsNarrowConvolution``, in parallel over output rows.
///
/// - Precondition: buffers hold `g.inputShape`, `[KH, KW, IC, OC]` and `g.outputShape` values.
func narrowConvolutionForward(
  input: UnsafePointer<Float>, weight: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
  geometry g: ConvGeometry, epilogue: ChannelEpilogue
) {
  let imageFloats = g.height * g.width * g.inChannels, rowFloats = g.outWidth * g.outChannels
  Parallel.forEachRange(g.batch * g.outHeight) { rows in
    for row in rows {
      narrowConvolutionRow(
        image: input + row / g.outHeight * imageFloats, row: row % g.outHeight, weight: weight,
        output: output + row * rowFloats, geometry: g, epilogue: epilogue)
    }
  }
}

/// Output row `row` of one image (`g.outWidth` pixels of `g.outChannels` values at `output`)
/// through `epilogue`, on the calling thread; `image` is the image's first value.
func narrowConvolutionRow(
  image: UnsafePointer<Float>, row: Int, weight: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
  geometry g: ConvGeometry, epilogue: ChannelEpilogue
) {
  var window = g.denseWindow
  epilogue.throughRowKernel(output: output, rows: g.outWidth, channels: g.outChannels) { affine in
    ChannelKernels.active.narrowConvolutionRow(&window, image, row, weight, affine, output)
  }
}
