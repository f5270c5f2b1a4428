import CChannelKernels

/// Depthwise 2-D convolution (groups = channels, one filter per channel) on NHWC tensors.
///
/// Shapes: input `[N, H, W, C]`, weight `[KH, KW, C]`, output `[N, OH, OW, C]`
/// (``ConvGeometry`` with `outChannels == inChannels`). The row kernels (`CChannelKernels`,
/// through ``ChannelKernels``) keep every sum over kernel taps (or, for the weight gradient,
/// over a row of pixels) in registers, 64 channels at a time, and store it once. The input
/// gradient is gathered per input pixel rather than scattered, so rows run in parallel
/// without races. Reference: https://pytorch.org/docs/stable/generated/torch.nn.Conv2d.html
/// (groups = C).

/// Computes `output = epilogue(depthwise(input, weight))`, in parallel over output rows;
/// the epilogue runs on each output row while it is in cache, and so does the recording of
/// the row's moments in `moments`, when given (one chunk per output row). Without either, an
/// output larger than the caches is written past them.
func depthwiseConv2dForward(
  input: UnsafePointer<Float>, weight: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
  geometry g: ConvGeometry, epilogue: ChannelEpilogue, moments: ChunkMoments? = nil
) {
  let c = g.inChannels, rowCount = g.batch * g.outHeight
  let streaming = epilogue.isIdentity && moments == nil && ChannelKernels.streams(g.outputPixels * c) != 0
  moments?.reserve(chunks: rowCount, rowsPerChunk: g.outWidth)
  Parallel.forEachRange(rowCount) { rows in
    for row in rows {
      let n = row / g.outHeight, target = output + row * g.outWidth * c
      depthwiseForwardRow(
        image: input + n * g.height * g.width * c, row: row % g.outHeight, weight: weight,
        output: target, geometry: g, epilogue: epilogue, streaming: streaming)
      moments?.record(row, rows: g.outWidth, of: target)
    }
  }
}

/// ``depthwiseConv2dForward(input:weight:output:geometry:epilogue:moments:)`` of a batch norm's
/// output that is never written whole: for each band of output rows, the input rows its
/// windows read are written from `input` into a buffer of at most about `bandFloats` floats,
/// which stays in cache while the band is computed and its moments recorded.
func depthwiseConv2dForward(
  input: PendingNormalization, weight: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
  geometry g: ConvGeometry, moments: ChunkMoments?, bandFloats: Int
) {
  let c = g.inChannels, rowFloats = g.width * c
  let bandRows = g.outputRowsPerBand(inputRowFloats: rowFloats, bandFloats: bandFloats)
  moments?.reserve(chunks: g.batch * g.outHeight, rowsPerChunk: g.outWidth)
  g.forEachOutputBand(rowsPerBand: bandRows, scratchFloats: g.inputRowCapacity(outputRows: bandRows) * rowFloats) { n, rows, scratch in
    let image = ConvolutionInput.pending(input).image(n, rows: g.inputRows(reachedBy: rows), geometry: g, scratch: scratch)
    for oh in rows {
      let row = n * g.outHeight + oh, target = output + row * g.outWidth * c
      depthwiseForwardRow(image: image, row: oh, weight: weight, output: target, geometry: g, epilogue: ChannelEpilogue())
      moments?.record(row, rows: g.outWidth, of: target)
    }
  }
}

/// Output row `oh` of one image, through the epilogue: its affine map and clamp in the
/// kernel's registers, an addend in a second pass over the row. `image` is where the image's
/// row 0 is (or would be: only the rows the window reads are accessed); `output` is the row,
/// written with non-temporal stores when `streaming` (then the epilogue must be the identity).
func depthwiseForwardRow(
  image: UnsafePointer<Float>, row oh: Int, weight: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
  geometry g: ConvGeometry, epilogue: ChannelEpilogue, streaming: Bool = false
) {
  var window = g.depthwiseWindow
  let kernel = ChannelKernels.active.depthwiseRow
  epilogue.throughRowKernel(output: output, rows: g.outWidth, channels: g.inChannels) { affine in
    kernel(&window, image, oh, weight, affine, output, streaming ? 1 : 0)
  }
}

/// Computes the gradients of a depthwise convolution from the output gradient `dY`.
///
/// `dX` (if given) is overwritten; `dW` and `dBias` (if given) are accumulated into.
public func depthwiseConv2dBackward(
  input: UnsafePointer<Float>, weight: UnsafePointer<Float>, dY: UnsafePointer<Float>,
  dX: UnsafeMutablePointer<Float>?, dW: UnsafeMutablePointer<Float>?,
  dBias: UnsafeMutablePointer<Float>?, geometry g: ConvGeometry
) {
  if let dBias { addColumnSums(dY, rows: g.outputPixels, columns: g.inChannels, into: dBias) }
  if let dW { depthwiseWeightGradient(input: input, dY: dY, dW: dW, geometry: g) }
  if let dX { depthwiseInputGradient(weight: weight, dY: dY, dX: dX, geometry: g) }
}

/// The gradients of a depthwise convolution whose output gradient is not in memory but
/// written on demand, band by band: `outputGradient(pixels, target)` writes the output
/// gradient's pixels `pixels` (rows of its `[N·OH·OW, C]` view) to `target`. Each band of
/// input rows asks for the output rows its windows reach, at most `bandFloats` floats (a
/// band's first rows are its neighbour's last, asked for twice), and reads them from cache
/// for both the input gradient of its rows and the weight gradient of the output rows whose
/// last tap falls in the band (so each output row counts once). `inputGradientWritten` reads
/// each band's input-gradient rows once written (then through the caches, not past them).
/// `dX` (if given) is overwritten; `dW` (if given) is accumulated into.
func depthwiseConv2dBackward(
  input: ConvolutionInput, weight: UnsafePointer<Float>, dX: UnsafeMutablePointer<Float>?,
  dW: UnsafeMutablePointer<Float>?, geometry g: ConvGeometry, chunkFloats bandFloats: Int,
  outputGradient: OutputGradientWriter, inputGradientWritten: InputGradientObserver? = nil
) {
  let c = g.inChannels, rowFloats = g.outWidth * c, taps = g.kernelHeight * g.kernelWidth * c
  let bands = DepthwiseBands(geometry: g, outputRowsFitting: max(1, bandFloats / max(rowFloats, 1)))
  let items = g.batch * bands.count, window = g.depthwiseWindow
  let streaming = inputGradientWritten == nil ? ChannelKernels.streams(g.batch * g.height * g.width * c) : 0
  let workers = min(Parallel.threadCount, max(items, 1))
  var totals = [Double](repeating: 0, count: workers * taps)
  // Per worker: the band's output gradient, the weight gradient's partial sums, and the
  // input rows the band's owned output rows read when they are written on demand.
  let tappedCapacity = g.inputRowCapacity(outputRows: bands.outputRowCapacity) * g.width * c
  let used = totals.withUnsafeMutableBufferPointer { totals in
    Parallel.forEachWorker(items) { worker, items in
      withScratch(count: bands.outputRowCapacity * rowFloats + taps + tappedCapacity) { scratch in
        let partial = scratch + bands.outputRowCapacity * rowFloats, total = totals.baseAddress! + worker * taps
        withUnsafePointer(to: window) { window in
          for item in items {
            if dW != nil { partial.update(repeating: 0, count: taps) }
            depthwiseBandBackward(
              bands[item % bands.count], image: item / bands.count, input: input, weight: weight, dX: dX,
              partial: dW == nil ? nil : partial, buffers: (scratch, partial + taps), geometry: g, window: window,
              streaming: streaming, outputGradient: outputGradient)
            if let dX, let inputGradientWritten {
              let band = bands[item % bands.count], first = (item / bands.count * g.height + band.inputRows.lowerBound) * g.width
              inputGradientWritten(worker, first..<first + band.inputRows.count * g.width, dX + first * c)
            }
            if dW != nil { for i in 0..<taps { total[i] += Double(partial[i]) } }
          }
        }
      }
    }
  }
  guard let dW else { return }
  for worker in 0..<used {
    for i in 0..<taps { dW[i] += Float(totals[worker * taps + i]) }
  }
}

/// One band of image `n`: its output gradient written into `buffers.outputGradient`, the
/// input gradient of its input rows, and its owned output rows' share of the weight gradient
/// added to `partial` (when given), reading their input rows from `buffers.tappedRows` when
/// the input is written on demand.
private func depthwiseBandBackward(
  _ band: DepthwiseBands.Band, image n: Int, input: ConvolutionInput, weight: UnsafePointer<Float>,
  dX: UnsafeMutablePointer<Float>?, partial: UnsafeMutablePointer<Float>?,
  buffers: (outputGradient: UnsafeMutablePointer<Float>, tappedRows: UnsafeMutablePointer<Float>), geometry g: ConvGeometry,
  window: UnsafePointer<CChannelKernels_Window>, streaming: Int32, outputGradient: OutputGradientWriter
) {
  let kernels = ChannelKernels.active, c = g.inChannels, rowFloats = g.outWidth * c, firstRow = n * g.outHeight
  outputGradient((firstRow + band.reached.lowerBound) * g.outWidth..<(firstRow + band.reached.upperBound) * g.outWidth, buffers.outputGradient)
  // Output row r of the image is at dYImage + r·OW·C; only the reached rows are read.
  let dYImage = UnsafePointer(buffers.outputGradient) - band.reached.lowerBound * rowFloats
  if let dX {
    for ih in band.inputRows {
      kernels.depthwiseInputGradientRow(window, dYImage, ih, weight, dX + (n * g.height + ih) * g.width * c, streaming)
    }
  }
  guard let partial, !band.owned.isEmpty else { return }
  let image = input.image(n, rows: g.inputRows(reachedBy: band.owned), geometry: g, scratch: buffers.tappedRows)
  for oh in band.owned {
    kernels.depthwiseWeightGradientRow(window, image, dYImage + oh * rowFloats, oh, partial)
  }
}

/// An image's input rows cut into bands for ``depthwiseConv2dBackward(input:weight:dX:dW:geometry:chunkFloats:outputGradient:)``.
struct DepthwiseBands {
  /// One band: its input rows, the output rows whose windows reach them, and the output
  /// rows whose last tap lies among them (the last band also owns rows that reach past the
  /// image's bottom, into its padding).
  struct Band {
    var inputRows: Range<Int>, reached: Range<Int>, owned: Range<Int>
  }

  let geometry: ConvGeometry
  let rowsPerBand: Int
  /// The most output rows a band reaches.
  let outputRowCapacity: Int

  /// Bands of as many input rows as keep the output rows they reach within `capacity`
  /// (at least one input row each).
  init(geometry g: ConvGeometry, outputRowsFitting capacity: Int) {
    geometry = g
    // A band of b input rows reaches at most ⌊(b + KH − 2) / s⌋ + 1 output rows.
    rowsPerBand = min(g.height, max(1, capacity * g.stride - g.kernelHeight + 1))
    outputRowCapacity = min(g.outHeight, (rowsPerBand + g.kernelHeight - 2) / g.stride + 1)
  }

  var count: Int { (geometry.height + rowsPerBand - 1) / rowsPerBand }

  subscript(index: Int) -> Band {
    let first = index * rowsPerBand, end = min(first + rowsPerBand, geometry.height)
    let reachedEnd = min(geometry.outHeight, (end - 1 + geometry.padTop) / geometry.stride + 1)
    let ownedEnd = end == geometry.height ? geometry.outHeight : firstOutputRow(endingAtOrAfter: end)
    return Band(inputRows: first..<end, reached: firstOutputRow(endingAtOrAfter: first)..<reachedEnd,
                owned: firstOutputRow(endingAtOrAfter: first)..<ownedEnd)
  }

  /// The first output row whose last tap, `oh·s − pt + KH − 1`, is input row `row` or below it.
  private func firstOutputRow(endingAtOrAfter row: Int) -> Int {
    let g = geometry, numerator = row + g.padTop - g.kernelHeight + 1
    let first = numerator <= 0 ? 0 : (numerator + g.stride - 1) / g.stride
    return min(first, g.outHeight)
  }
}

/// `dW[kh, kw, c] += Σ x[n, oh·s − pt + kh, ow·s − pl + kw, c] · dY[n, oh, ow, c]`. For each
/// output row and tap, the sum over the row's pixels runs in registers; each worker adds
/// its rows into its own partial sum.
private func depthwiseWeightGradient(
  input: UnsafePointer<Float>, dY: UnsafePointer<Float>, dW: UnsafeMutablePointer<Float>, geometry g: ConvGeometry
) {
  let kernels = ChannelKernels.active, window = g.depthwiseWindow
  let c = g.inChannels
  let total = reduceOverRows(g.batch * g.outHeight, width: g.kernelHeight * g.kernelWidth * c) { rows, partial in
    withUnsafePointer(to: window) { window in
      for row in rows {
        let n = row / g.outHeight
        kernels.depthwiseWeightGradientRow(
          window, input + n * g.height * g.width * c, dY + row * g.outWidth * c, row % g.outHeight, partial)
      }
    }
  }
  for i in total.indices { dW[i] += Float(total[i]) }
}

/// `dX[n, ih, iw, c] = Σ dY[n, oh, ow, c] · w[kh, kw, c]` over the taps with
/// `oh·s − pt + kh = ih` and `ow·s − pl + kw = iw`, gathered per input pixel.
private func depthwiseInputGradient(
  weight: UnsafePointer<Float>, dY: UnsafePointer<Float>, dX: UnsafeMutablePointer<Float>, geometry g: ConvGeometry
) {
  let kernels = ChannelKernels.active, window = g.depthwiseWindow
  let c = g.inChannels, streaming = ChannelKernels.streams(g.batch * g.height * g.width * c)
  Parallel.forEachRange(g.batch * g.height) { rows in
    withUnsafePointer(to: window) { window in
      for row in rows {
        let n = row / g.height
        kernels.depthwiseInputGradientRow(
          window, dY + n * g.outHeight * g.outWidth * c, row % g.height, weight, dX + row * g.width * c, streaming)
      }
    }
  }
}

extension ConvGeometry {
  /// The window as the depthwise row kernels take it.
  var depthwiseWindow: CChannelKernels_Window {
    precondition(
      max(kernelHeight, kernelWidth) <= Int(CChannelKernels_maximumKernel),
      "depthwise kernels take windows up to \(CChannelKernels_maximumKernel)×\(CChannelKernels_maximumKernel)")
    return CChannelKernels_Window(
      height: height, width: width, channels: inChannels, kernelHeight: kernelHeight, kernelWidth: kernelWidth,
      stride: stride, padTop: padTop, padLeft: padLeft, outHeight: outHeight, outWidth: outWidth)
  }
}
