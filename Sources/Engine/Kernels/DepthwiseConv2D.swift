/// Depthwise 2-D convolution (groups = channels, one filter per channel) on NHWC tensors.
///
/// Shapes: input `[N, H, W, C]`, weight `[KH, KW, C]`, output `[N, OH, OW, C]`
/// (``ConvGeometry`` with `outChannels == inChannels`). Every sum over kernel taps (or, for
/// the weight gradient, over a row of pixels) runs in registers, one ``ChannelBlock`` of
/// channels at a time, and is stored once. The input gradient is gathered per input pixel
/// rather than scattered, so rows run in parallel without races.
/// Reference: https://pytorch.org/docs/stable/generated/torch.nn.Conv2d.html (groups = C).

/// Computes `output = epilogue(depthwise(input, weight))`, in parallel over output rows;
/// the epilogue runs on each output row while it is in cache.
public func depthwiseConv2dForward(
  input: UnsafePointer<Float>, weight: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
  geometry g: ConvGeometry, epilogue: ChannelEpilogue
) {
  Parallel.forEachRange(g.batch * g.outHeight) { rows in
    for row in rows {
      let n = row / g.outHeight
      depthwiseForwardRow(
        image: input + n * g.height * g.width * g.inChannels, row: row % g.outHeight, weight: weight,
        output: output + row * g.outWidth * g.inChannels, geometry: g, epilogue: epilogue)
    }
  }
}

/// Output row `oh` of one image, through the epilogue. `image` is where the image's row 0
/// is (or would be: only the rows the window reads are accessed); `output` is the row.
func depthwiseForwardRow(
  image: UnsafePointer<Float>, row oh: Int, weight: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
  geometry g: ConvGeometry, epilogue: ChannelEpilogue
) {
  let kh = g.validTaps(output: oh, kernel: g.kernelHeight, pad: g.padTop, extent: g.height)
  for ow in 0..<g.outWidth {
    let kw = g.validTaps(output: ow, kernel: g.kernelWidth, pad: g.padLeft, extent: g.width)
    let pixel = DepthwisePixelSum(
      input: image + ((oh * g.stride - g.padTop + kh.lowerBound) * g.width + ow * g.stride - g.padLeft + kw.lowerBound)
        * g.inChannels,
      weight: weight + (kh.lowerBound * g.kernelWidth + kw.lowerBound) * g.inChannels,
      output: output + ow * g.inChannels, rows: kh.count, columns: kw.count, geometry: g)
    forEachChannelBlock(g.inChannels, pixel)
  }
  epilogue.apply(output, rows: g.outWidth, channels: g.inChannels)
}

/// One output pixel of the forward pass: the sum over its valid taps, starting at the
/// first valid tap's input value and weight.
private struct DepthwisePixelSum: ChannelBlockBody {
  let input: UnsafePointer<Float>, weight: UnsafePointer<Float>
  let output: UnsafeMutablePointer<Float>
  let rows: Int, columns: Int, geometry: ConvGeometry

  @inline(__always)
  func run<Block: ChannelBlock>(_ type: Block.Type, _ c0: Int, _ width: Int) {
    let c = geometry.inChannels
    var sum = Block.zero
    var inputRow = input + c0, weightRow = weight + c0
    for _ in 0..<rows {
      var x = inputRow, w = weightRow
      for _ in 0..<columns {
        sum.add(Block.load(x, width), times: Block.load(w, width))
        x += c
        w += c
      }
      inputRow += geometry.width * c
      weightRow += geometry.kernelWidth * c
    }
    sum.store(output + c0, width)
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

/// `dW[kh, kw, c] += Σ x[n, oh·s − pt + kh, ow·s − pl + kw, c] · dY[n, oh, ow, c]`. For each
/// output row and tap, the sum over the row's pixels runs in registers; each worker adds
/// its rows into its own partial sum.
private func depthwiseWeightGradient(
  input: UnsafePointer<Float>, dY: UnsafePointer<Float>, dW: UnsafeMutablePointer<Float>, geometry g: ConvGeometry
) {
  let c = g.inChannels
  let columns = (0..<g.kernelWidth).map { g.outputRange(tap: $0) }
  let total = reduceOverRows(g.batch * g.outHeight, width: g.kernelHeight * g.kernelWidth * c) { rows, partial in
    for row in rows {
      let n = row / g.outHeight, oh = row % g.outHeight
      for kh in g.validTaps(output: oh, kernel: g.kernelHeight, pad: g.padTop, extent: g.height) {
        let inputRow = input + (n * g.height + oh * g.stride - g.padTop + kh) * g.width * c
        for kw in 0..<g.kernelWidth where !columns[kw].isEmpty {
          let ow0 = columns[kw].lowerBound
          let rowSum = DepthwiseTapRowSum(
            input: inputRow + (ow0 * g.stride - g.padLeft + kw) * c,
            dY: dY + ((n * g.outHeight + oh) * g.outWidth + ow0) * c,
            target: partial + (kh * g.kernelWidth + kw) * c,
            pixels: columns[kw].count, channels: c, inputStep: g.stride * c)
          forEachChannelBlock(c, rowSum)
        }
      }
    }
  }
  for i in total.indices { dW[i] += Float(total[i]) }
}

/// One tap's share of the weight gradient from one output row: `Σ_ow x · dY` added to
/// `target`.
private struct DepthwiseTapRowSum: ChannelBlockBody {
  let input: UnsafePointer<Float>, dY: UnsafePointer<Float>, target: UnsafeMutablePointer<Float>
  let pixels: Int, channels: Int, inputStep: Int

  @inline(__always)
  func run<Block: ChannelBlock>(_ type: Block.Type, _ c0: Int, _ width: Int) {
    var sum = Block.load(target + c0, width)
    var x = input + c0, dy = dY + c0
    for _ in 0..<pixels {
      sum.add(Block.load(x, width), times: Block.load(dy, width))
      x += inputStep
      dy += channels
    }
    sum.store(target + c0, width)
  }
}

/// `dX[n, ih, iw, c] = Σ dY[n, oh, ow, c] · w[kh, kw, c]` over the taps with
/// `oh·s − pt + kh = ih` and `ow·s − pl + kw = iw`, gathered per input pixel.
private func depthwiseInputGradient(
  weight: UnsafePointer<Float>, dY: UnsafePointer<Float>, dX: UnsafeMutablePointer<Float>, geometry g: ConvGeometry
) {
  let rowTaps = TapTable(g, vertical: true), columnTaps = TapTable(g, vertical: false)
  rowTaps.withTaps { vertical in
    columnTaps.withTaps { horizontal in
      Parallel.forEachRange(g.batch * g.height) { rows in
        for row in rows {
          let n = row / g.height, ih = row % g.height
          for iw in 0..<g.width {
            let gather = DepthwiseGather(
              weight: weight, dY: dY + n * g.outHeight * g.outWidth * g.inChannels,
              dX: dX + ((n * g.height + ih) * g.width + iw) * g.inChannels,
              vertical: vertical(ih), horizontal: horizontal(iw), geometry: g)
            forEachChannelBlock(g.inChannels, gather)
          }
        }
      }
    }
  }
}

/// One input pixel of the input gradient: the sum over the output pixels whose windows
/// read it. `dY` points at the pixel's image.
private struct DepthwiseGather: ChannelBlockBody {
  let weight: UnsafePointer<Float>, dY: UnsafePointer<Float>, dX: UnsafeMutablePointer<Float>
  let vertical: UnsafeBufferPointer<TapTable.Entry>, horizontal: UnsafeBufferPointer<TapTable.Entry>
  let geometry: ConvGeometry

  @inline(__always)
  func run<Block: ChannelBlock>(_ type: Block.Type, _ c0: Int, _ width: Int) {
    let c = geometry.inChannels
    var sum = Block.zero
    for v in vertical {
      let gradientRow = dY + v.output * geometry.outWidth * c + c0
      let weightRow = weight + v.tap * geometry.kernelWidth * c + c0
      for h in horizontal {
        sum.add(Block.load(gradientRow + h.output * c, width), times: Block.load(weightRow + h.tap * c, width))
      }
    }
    sum.store(dX + c0, width)
  }
}

/// For each input row (or column) of a window geometry, the kernel taps that read it and
/// the output row (column) each belongs to: `output · stride − pad + tap == input`. Built
/// once per call.
struct TapTable {
  /// A kernel tap and the output position whose window puts it on the input position.
  struct Entry {
    var tap: Int
    var output: Int
  }

  private var entries: [Entry]
  private var starts: [Int]

  init(_ g: ConvGeometry, vertical: Bool) {
    let (kernel, pad, extent, outExtent) = vertical
      ? (g.kernelHeight, g.padTop, g.height, g.outHeight)
      : (g.kernelWidth, g.padLeft, g.width, g.outWidth)
    var lists = [[Entry]](repeating: [], count: extent)
    for o in 0..<outExtent {
      for k in 0..<kernel {
        let i = o * g.stride - pad + k
        if i >= 0 && i < extent { lists[i].append(Entry(tap: k, output: o)) }
      }
    }
    entries = lists.flatMap { $0 }
    starts = lists.reduce(into: [0]) { $0.append($0.last! + $1.count) }
  }

  /// Calls `body` with a function from an input position to the entries that read it;
  /// the buffers it returns are valid only inside `body`.
  func withTaps<R>(_ body: ((Int) -> UnsafeBufferPointer<Entry>) -> R) -> R {
    entries.withUnsafeBufferPointer { all in
      starts.withUnsafeBufferPointer { starts in
        body { i in UnsafeBufferPointer(rebasing: all[starts[i]..<starts[i + 1]]) }
      }
    }
  }
}
