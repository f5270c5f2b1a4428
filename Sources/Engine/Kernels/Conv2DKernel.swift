/// Dense 2-D convolution (groups = 1) on NHWC tensors, forward and backward, lowered to
/// GEMM one chunk of output pixels at a time.
///
/// Shapes: input `[N, H, W, IC]`, weight `[KH, KW, IC, OC]` (viewed as a
/// `[KH·KW·IC, OC]` matrix), output `[N, OH, OW, OC]`.
/// Reference: https://pytorch.org/docs/stable/generated/torch.nn.Conv2d.html
///
/// Each worker fills an im2col buffer of about ``convolutionChunkFloats`` values (near
/// the L2 size) and multiplies it at once, so the full column matrix, which is KH·KW
/// times the input, never exists. A 1×1 stride-1 convolution skips im2col altogether, and so
/// does a first layer of few input channels
/// (``narrowConvolutionForward(input:weight:output:geometry:epilogue:)``).

/// Target size, in floats, of one worker's im2col chunk: 1 MiB. Measured with
/// `podium bench --kernels`: 256 KiB chunks ran 3×3 convolutions about 40% slower; 512 KiB
/// to 4 MiB were within this machine's run-to-run noise.
let convolutionChunkFloats = 1 << 18

/// Output pixels per im2col chunk for a geometry: about ``convolutionChunkFloats`` values,
/// but at least 512 rows (or each worker's share, if smaller), because every chunk's GEMM
/// repacks the whole `[KH·KW·IC, OC]` weight and deep layers (ResNet's 3×3×512×512) would
/// otherwise repack 9 MB of weights for a few dozen rows; then balanced among the workers.
func convolutionChunkPixels(_ g: ConvGeometry) -> Int {
  let share = (g.outputPixels + Parallel.threadCount - 1) / Parallel.threadCount
  let chunk = max(convolutionChunkFloats / max(g.patchSize, 1), min(512, share), 8)
  return Parallel.balancedChunk(g.outputPixels, atMost: chunk)
}

/// Computes `output = epilogue(conv(input, weight))`: the bias, or a folded batch norm and
/// activation, applied to each chunk of output while it is in cache. Winograd takes 3×3
/// stride-1 convolutions with enough channels, the narrow convolution those with at most four
/// input channels (a network's first layer), one GEMM the 1×1s, im2col and a GEMM the rest.
/// A 1×1 stride-1 convolution also records each chunk's moments in `moments`, when given; the
/// others leave it unreserved.
///
/// - Precondition: buffers hold `g.inputShape`, `[KH, KW, IC, OC]` and `g.outputShape` values.
func conv2dForward(
  input: UnsafePointer<Float>, weight: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
  geometry g: ConvGeometry, epilogue: ChannelEpilogue, moments: ChunkMoments? = nil
) {
  let oc = g.outChannels
  if g.suitsWinograd {
    winogradConv2dForward(input: input, weight: weight, output: output, geometry: g, epilogue: epilogue)
  } else if g.isPointwise {
    pointwiseForward(input: input, weight: weight, output: output, geometry: g, epilogue: epilogue, moments: moments)
  } else if g.suitsNarrowConvolution {
    narrowConvolutionForward(input: input, weight: weight, output: output, geometry: g, epilogue: epilogue)
  } else if MatrixKernels.usesPanels(innerDimension: g.patchSize) {
    withScratch(count: PackedPanels.count(k: g.patchSize, n: oc)) { buffer in
      let packed = PackedPanels(weight, ldb: oc, transposed: false, k: g.patchSize, n: oc, into: buffer)
      im2colForward(input: input, output: output, geometry: g) { columns, rows, target in
        panelMultiply(rows: rows, a: columns, lda: g.patchSize, packed: packed, c: target, ldc: oc, epilogue: epilogue)
      }
    }
  } else {
    im2colForward(input: input, output: output, geometry: g) { columns, rows, target in
      sgemmRowMajor(false, false, rows, oc, g.patchSize, 1, columns, g.patchSize, weight, oc, 0, target, oc)
      epilogue.apply(target, rows: rows, channels: oc)
    }
  }
}

/// Fills each worker's im2col buffer one chunk of output pixels at a time and calls
/// `multiply(columns, rows, target)` to write that chunk's `rows` output pixels at `target`.
private func im2colForward(
  input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, geometry g: ConvGeometry,
  multiply: (UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>) -> Void
) {
  let chunk = convolutionChunkPixels(g)
  let chunks = (g.outputPixels + chunk - 1) / chunk
  Parallel.forEachRange(chunks) { chunkRange in
    withScratch(count: chunk * g.patchSize) { columns in
      for c in chunkRange {
        let pixels = (c * chunk)..<min((c + 1) * chunk, g.outputPixels)
        g.im2col(input, pixels: pixels, into: columns)
        multiply(columns, pixels.count, output + pixels.lowerBound * g.outChannels)
      }
    }
  }
}

/// Computes the gradients of a convolution from the output gradient `dY`.
///
/// `dX` (if given) is overwritten with the input gradient; `dW` and `dBias` (if given) are
/// *accumulated into*, as PyTorch accumulates `.grad`. Work is split by image, so col2im
/// writes of different workers never overlap; each worker keeps its own partial `dW`.
public func conv2dBackward(
  input: UnsafePointer<Float>, weight: UnsafePointer<Float>, dY: UnsafePointer<Float>,
  dX: UnsafeMutablePointer<Float>?, dW: UnsafeMutablePointer<Float>?,
  dBias: UnsafeMutablePointer<Float>?, geometry g: ConvGeometry
) {
  let oc = g.outChannels
  if let dBias { addColumnSums(dY, rows: g.outputPixels, columns: oc, into: dBias) }
  if g.isPointwise {
    pointwiseBackward(input: input, weight: weight, dY: dY, dX: dX, dW: dW, geometry: g)
    return
  }
  var dX = dX
  if let inputGradient = dX, let transposed = g.winogradInputGradientGeometry {
    winogradInputGradient(weight: weight, dY: dY, dX: inputGradient, geometry: g, transposed: transposed)
    dX = nil
  }
  var dW = dW
  if let weightGradient = dW, g.suitsWinograd {
    winogradWeightGradient(input: input, dY: dY, dW: weightGradient, geometry: g)
    dW = nil
  }
  guard dX != nil || dW != nil else { return }
  let weightCount = g.patchSize * oc
  let workers = min(Parallel.threadCount, g.batch)
  withInputGradientProduct(weight: weight, geometry: g, packing: dX != nil) { inputGradientProduct in
    withScratch(count: dW == nil ? 1 : workers * weightCount) { partials in
      if dW != nil { partials.initialize(repeating: 0, count: workers * weightCount) }
      let used = Parallel.forEachWorker(g.batch) { worker, images in
        imageRangeBackward(
          images, input: input, inputGradientProduct: inputGradientProduct, dY: dY, dX: dX,
          dW: dW == nil ? nil : partials + worker * weightCount, geometry: g)
      }
      if let dW {
        for worker in 0..<used { addInParallel(dW, partials + worker * weightCount, count: weightCount) }
      }
    }
  }
}

/// `columns[rows, KH·KW·IC] = dY[rows, OC] · Wᵀ`, the im2col backward's input-gradient product
/// for one chunk of output pixels.
typealias InputGradientProduct = (_ dY: UnsafePointer<Float>, _ rows: Int, _ columns: UnsafeMutablePointer<Float>) -> Void

/// Calls `body` with the input-gradient product: the panel GEMM on the transposed weight,
/// packed once for every chunk, where ``MatrixKernels`` chooses it and `packing` says the
/// product will run (an input gradient is wanted), else OpenBLAS.
func withInputGradientProduct(
  weight: UnsafePointer<Float>, geometry g: ConvGeometry, packing: Bool, _ body: (InputGradientProduct) -> Void
) {
  let (k, oc) = (g.patchSize, g.outChannels)
  guard packing, MatrixKernels.usesPanels(innerDimension: oc) else {
    body { dY, rows, columns in sgemmRowMajor(false, true, rows, k, oc, 1, dY, oc, weight, oc, 0, columns, k) }
    return
  }
  withScratch(count: PackedPanels.count(k: oc, n: k)) { buffer in
    let packed = PackedPanels(weight, ldb: oc, transposed: true, k: oc, n: k, into: buffer)
    body { dY, rows, columns in
      panelMultiply(rows: rows, a: dY, lda: oc, packed: packed, c: columns, ldc: k, epilogue: ChannelEpilogue())
    }
  }
}

/// Backward over whole images, one im2col chunk at a time: `dW += colsᵀ · dY` and
/// `dX = col2im(dY · Wᵀ)`.
private func imageRangeBackward(
  _ images: Range<Int>, input: UnsafePointer<Float>, inputGradientProduct: InputGradientProduct,
  dY: UnsafePointer<Float>, dX: UnsafeMutablePointer<Float>?, dW: UnsafeMutablePointer<Float>?,
  geometry g: ConvGeometry
) {
  let chunk = convolutionChunkPixels(g)
  withScratch(count: chunk * g.patchSize) { columns in
    imageRangeBackward(
      images, columns: columns, chunk: chunk, input: input, inputGradientProduct: inputGradientProduct, dY: dY, dX: dX, dW: dW,
      geometry: g)
  }
}

private func imageRangeBackward(
  _ images: Range<Int>, columns: UnsafeMutablePointer<Float>, chunk: Int, input: UnsafePointer<Float>,
  inputGradientProduct: InputGradientProduct, dY: UnsafePointer<Float>, dX: UnsafeMutablePointer<Float>?,
  dW: UnsafeMutablePointer<Float>?, geometry g: ConvGeometry
) {
  let oc = g.outChannels, k = g.patchSize
  if let dX {
    let imageSize = g.height * g.width * g.inChannels
    (dX + images.lowerBound * imageSize).update(repeating: 0, count: images.count * imageSize)
  }
  let perImage = g.outHeight * g.outWidth
  var start = images.lowerBound * perImage
  let end = images.upperBound * perImage
  while start < end {
    let pixels = start..<min(start + chunk, end)
    let dYChunk = dY + pixels.lowerBound * oc
    if let dW {
      g.im2col(input, pixels: pixels, into: columns)
      addTransposedProduct(m: k, n: oc, k: pixels.count, a: columns, lda: k, b: dYChunk, ldb: oc, c: dW, ldc: oc)
    }
    if let dX {
      inputGradientProduct(dYChunk, pixels.count, columns)
      g.col2imAdd(columns, pixels: pixels, into: dX)
    }
    start = pixels.upperBound
  }
}

/// The direct seven-loop convolution: the reference the tests hold ``conv2dForward`` to.
/// Accumulates in Double.
public func conv2dReference(
  input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
  output: UnsafeMutablePointer<Float>, geometry g: ConvGeometry
) {
  for n in 0..<g.batch {
    for oh in 0..<g.outHeight {
      for ow in 0..<g.outWidth {
        for o in 0..<g.outChannels {
          var sum = Double(bias?[o] ?? 0)
          for kh in 0..<g.kernelHeight {
            for kw in 0..<g.kernelWidth {
              let ih = oh * g.stride - g.padTop + kh
              let iw = ow * g.stride - g.padLeft + kw
              guard ih >= 0, ih < g.height, iw >= 0, iw < g.width else { continue }
              for i in 0..<g.inChannels {
                let x = input[((n * g.height + ih) * g.width + iw) * g.inChannels + i]
                let w = weight[((kh * g.kernelWidth + kw) * g.inChannels + i) * g.outChannels + o]
                sum += Double(x) * Double(w)
              }
            }
          }
          output[((n * g.outHeight + oh) * g.outWidth + ow) * g.outChannels + o] = Float(sum)
        }
      }
    }
  }
}
