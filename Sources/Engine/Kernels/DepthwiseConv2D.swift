/// Depthwise 2-D convolution (groups = channels, one filter per channel) on NHWC tensors.
///
/// Shapes: input `[N, H, W, C]`, weight `[KH, KW, C]`, bias `[C]`, output `[N, OH, OW, C]`
/// (``ConvGeometry`` with `outChannels == inChannels`). Each output pixel is computed 8
/// channels at a time in a vector register that accumulates every kernel tap before it is
/// stored once; the input gradient is gathered the same way (no scatter, so rows run in
/// parallel without races).
/// Reference: https://pytorch.org/docs/stable/generated/torch.nn.Conv2d.html (groups = C).

/// Computes `output = depthwise(input, weight) + bias`, in parallel over output rows.
public func depthwiseConv2dForward(
  input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
  output: UnsafeMutablePointer<Float>, geometry g: ConvGeometry
) {
  let c = g.inChannels, rowStride = g.width * c, tapRowStride = g.kernelWidth * c
  Parallel.forEachRange(g.batch * g.outHeight) { rows in
    for row in rows {
      let n = row / g.outHeight, oh = row % g.outHeight
      let kh = g.validTaps(output: oh, kernel: g.kernelHeight, pad: g.padTop, extent: g.height)
      // Input pixel (oh·s − pt + kh.lowerBound, −pl) and the weights of tap row kh.lowerBound.
      let rowOrigin = input + ((n * g.height + oh * g.stride - g.padTop + kh.lowerBound) * g.width - g.padLeft) * c
      let weightOrigin = weight + kh.lowerBound * tapRowStride
      let outRow = output + (n * g.outHeight + oh) * g.outWidth * c
      forEachChannelBlock(c) { c0, width in
        let initial = bias.map { loadChannels($0 + c0, width) } ?? .zero
        for ow in 0..<g.outWidth {
          let kw = g.validTaps(output: ow, kernel: g.kernelWidth, pad: g.padLeft, extent: g.width)
          var sum = initial
          var inputRow = rowOrigin + (ow * g.stride + kw.lowerBound) * c + c0
          var weightRow = weightOrigin + kw.lowerBound * c + c0
          for _ in kh {
            var x = inputRow, w = weightRow
            for _ in kw {
              sum += loadChannels(x, width) * loadChannels(w, width)
              x += c
              w += c
            }
            inputRow += rowStride
            weightRow += tapRowStride
          }
          storeChannels(sum, outRow + ow * c + c0, width)
        }
      }
    }
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
/// output row, tap and 8-channel block the sum over the row's pixels runs in a register;
/// each worker adds its rows into its own partial sum.
private func depthwiseWeightGradient(
  input: UnsafePointer<Float>, dY: UnsafePointer<Float>, dW: UnsafeMutablePointer<Float>, geometry g: ConvGeometry
) {
  let c = g.inChannels, pixelStep = g.stride * c
  let columns = (0..<g.kernelWidth).map { g.outputRange(tap: $0) }
  let total = reduceOverRows(g.batch * g.outHeight, width: g.kernelHeight * g.kernelWidth * c) { rows, partial in
    for row in rows {
      let n = row / g.outHeight, oh = row % g.outHeight
      let gradientRow = dY + (n * g.outHeight + oh) * g.outWidth * c
      for kh in g.validTaps(output: oh, kernel: g.kernelHeight, pad: g.padTop, extent: g.height) {
        let inputRow = input + (n * g.height + oh * g.stride - g.padTop + kh) * g.width * c
        for kw in 0..<g.kernelWidth where !columns[kw].isEmpty {
          let ow0 = columns[kw].lowerBound
          let firstInput = inputRow + (ow0 * g.stride - g.padLeft + kw) * c
          let target = partial + (kh * g.kernelWidth + kw) * c
          forEachChannelBlock(c) { c0, width in
            var sum = SIMD8<Float>.zero
            var x = firstInput + c0, dy = gradientRow + ow0 * c + c0
            for _ in columns[kw] {
              sum += loadChannels(x, width) * loadChannels(dy, width)
              x += pixelStep
              dy += c
            }
            storeChannels(loadChannels(target + c0, width) + sum, target + c0, width)
          }
        }
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
  let c = g.inChannels
  let rowsTaps = TapTable(g, vertical: true), columnTaps = TapTable(g, vertical: false)
  Parallel.forEachRange(g.batch * g.height) { rows in
    for row in rows {
      let n = row / g.height, ih = row % g.height
      let vertical = rowsTaps.taps(of: ih)
      for iw in 0..<g.width {
        let horizontal = columnTaps.taps(of: iw)
        let target = dX + ((n * g.height + ih) * g.width + iw) * c
        forEachChannelBlock(c) { c0, width in
          var sum = SIMD8<Float>.zero
          for (kh, oh) in vertical {
            let gradientRow = dY + ((n * g.outHeight + oh) * g.outWidth) * c + c0
            let weightRow = weight + kh * g.kernelWidth * c + c0
            for (kw, ow) in horizontal {
              sum += loadChannels(gradientRow + ow * c, width) * loadChannels(weightRow + kw * c, width)
            }
          }
          storeChannels(sum, target + c0, width)
        }
      }
    }
  }
}

/// For each input row (or column) of a window geometry, the kernel taps that read it and
/// the output row (column) each belongs to: `(tap, output)` with
/// `output · stride − pad + tap == input`. Built once per call.
struct TapTable {
  private var entries: [(tap: Int, output: Int)]
  private var starts: [Int]

  init(_ g: ConvGeometry, vertical: Bool) {
    let (kernel, pad, extent, outExtent) = vertical
      ? (g.kernelHeight, g.padTop, g.height, g.outHeight)
      : (g.kernelWidth, g.padLeft, g.width, g.outWidth)
    var lists = [[(tap: Int, output: Int)]](repeating: [], count: extent)
    for o in 0..<outExtent {
      for k in 0..<kernel {
        let i = o * g.stride - pad + k
        if i >= 0 && i < extent { lists[i].append((k, o)) }
      }
    }
    entries = lists.flatMap { $0 }
    starts = lists.reduce(into: [0]) { $0.append($0.last! + $1.count) }
  }

  /// The `(tap, output)` pairs that read input position `i`.
  func taps(of i: Int) -> ArraySlice<(tap: Int, output: Int)> {
    entries[starts[i]..<starts[i + 1]]
  }
}

// MARK: - 8-channel blocks

/// Calls `body(c0, width)` for channel blocks of 8 (`width` 8) and a last partial block.
@inline(__always)
func forEachChannelBlock(_ channels: Int, _ body: (Int, Int) -> Void) {
  var c0 = 0
  while c0 < channels {
    body(c0, min(8, channels - c0))
    c0 += 8
  }
}

/// Loads `width ≤ 8` floats into a vector (the rest zero).
@inline(__always)
func loadChannels(_ p: UnsafePointer<Float>, _ width: Int) -> SIMD8<Float> {
  if width == 8 { return UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }
  var v = SIMD8<Float>.zero
  for i in 0..<width { v[i] = p[i] }
  return v
}

/// Stores the first `width ≤ 8` lanes of `v`.
@inline(__always)
func storeChannels(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, _ width: Int) {
  if width == 8 {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
  } else {
    for i in 0..<width { p[i] = v[i] }
  }
}
