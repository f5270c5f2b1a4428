/// Depthwise 2-D convolution (groups = channels, one filter per channel) on NHWC tensors.
///
/// Shapes: input `[N, H, W, C]`, weight `[KH, KW, C]`, bias `[C]`, output `[N, OH, OW, C]`
/// (``ConvGeometry`` with `outChannels == inChannels`). Every inner loop runs over the C
/// contiguous channels of one pixel, so it vectorises.
/// Reference: https://pytorch.org/docs/stable/generated/torch.nn.Conv2d.html (groups = C).

/// Computes `output = depthwise(input, weight) + bias`, in parallel over output rows.
public func depthwiseConv2dForward(
  input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
  output: UnsafeMutablePointer<Float>, geometry g: ConvGeometry
) {
  let c = g.inChannels
  Parallel.forEachRange(g.batch * g.outHeight) { rows in
    for row in rows {
      let n = row / g.outHeight, oh = row % g.outHeight
      for ow in 0..<g.outWidth {
        let out = output + ((n * g.outHeight + oh) * g.outWidth + ow) * c
        if let bias { out.update(from: bias, count: c) } else { out.update(repeating: 0, count: c) }
        g.forEachTap(oh: oh, ow: ow) { kh, kw, ih, iw in
          multiplyAdd(out, input + ((n * g.height + ih) * g.width + iw) * c,
                      weight + (kh * g.kernelWidth + kw) * c, c)
        }
      }
    }
  }
}

/// Computes the gradients of a depthwise convolution from the output gradient `dY`.
///
/// `dX` (if given) is overwritten; `dW` and `dBias` (if given) are accumulated into. Work
/// is split by image, with one partial `dW` per worker.
public func depthwiseConv2dBackward(
  input: UnsafePointer<Float>, weight: UnsafePointer<Float>, dY: UnsafePointer<Float>,
  dX: UnsafeMutablePointer<Float>?, dW: UnsafeMutablePointer<Float>?,
  dBias: UnsafeMutablePointer<Float>?, geometry g: ConvGeometry
) {
  let c = g.inChannels
  if let dBias { addColumnSums(dY, rows: g.outputPixels, columns: c, into: dBias) }
  let weightCount = g.kernelHeight * g.kernelWidth * c
  let workers = min(Parallel.threadCount, g.batch)
  let partials = UnsafeMutablePointer<Float>.allocate(capacity: workers * weightCount)
  partials.initialize(repeating: 0, count: workers * weightCount)
  defer { partials.deallocate() }
  if let dX { dX.update(repeating: 0, count: g.batch * g.height * g.width * c) }
  let used = Parallel.forEachWorker(g.batch) { worker, images in
    let partial = partials + worker * weightCount
    for n in images {
      for oh in 0..<g.outHeight {
        for ow in 0..<g.outWidth {
          let gradient = dY + ((n * g.outHeight + oh) * g.outWidth + ow) * c
          g.forEachTap(oh: oh, ow: ow) { kh, kw, ih, iw in
            let tap = (kh * g.kernelWidth + kw) * c
            let pixel = ((n * g.height + ih) * g.width + iw) * c
            if dW != nil { multiplyAdd(partial + tap, input + pixel, gradient, c) }
            if let dX { multiplyAdd(dX + pixel, weight + tap, gradient, c) }
          }
        }
      }
    }
  }
  if let dW {
    for worker in 0..<used { addInPlace(dW, partials + worker * weightCount, weightCount) }
  }
}

extension ConvGeometry {
  /// Calls `body(kh, kw, ih, iw)` for every kernel tap of output pixel `(oh, ow)` that
  /// falls inside the input (padding taps contribute zero and are skipped).
  @inline(__always)
  func forEachTap(oh: Int, ow: Int, _ body: (Int, Int, Int, Int) -> Void) {
    for kh in 0..<kernelHeight {
      let ih = oh * stride - padTop + kh
      guard ih >= 0 && ih < height else { continue }
      for kw in 0..<kernelWidth {
        let iw = ow * stride - padLeft + kw
        guard iw >= 0 && iw < width else { continue }
        body(kh, kw, ih, iw)
      }
    }
  }
}
