/// Max and average pooling on NHWC tensors, and global average pooling.
///
/// Shapes: input `[N, H, W, C]`, output `[N, OH, OW, C]` (``ConvGeometry`` with
/// `outChannels == inChannels`); global pooling gives `[N, C]`. Padding taps are ignored by
/// max pooling (PyTorch pads with −∞) and count as zeros for average pooling when
/// `countIncludesPadding` (PyTorch's default `count_include_pad=True`).
/// Reference: https://pytorch.org/docs/stable/generated/torch.nn.MaxPool2d.html

/// Max pooling; `argmax` (if given) receives, per output value, the flat input index it came
/// from (kept for the backward pass; a forward that records nothing needs none).
public func maxPool2dForward(
  input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
  argmax: UnsafeMutablePointer<Int32>?, geometry g: ConvGeometry
) {
  let imageFloats = g.height * g.width * g.inChannels, rowFloats = g.outWidth * g.inChannels
  Parallel.forEachRange(g.batch * g.outHeight) { rows in
    for row in rows {
      let n = row / g.outHeight
      maxPool2dRow(
        image: input + n * imageFloats, row: row % g.outHeight, output: output + row * rowFloats,
        argmax: argmax.map { ($0 + row * rowFloats, Int32(n * imageFloats)) }, geometry: g)
    }
  }
}

/// Output row `oh` of one image's max pooling (`g.outWidth` pixels at `output`), on the
/// calling thread. `image` is where the image's row 0 is, or would be: only the rows the
/// windows reach are read (``ConvGeometry/inputRows(reachedBy:)``), so it may point before a
/// buffer that holds just those. `argmax`, if given, receives each value's index in the image
/// plus `base`.
func maxPool2dRow(
  image: UnsafePointer<Float>, row oh: Int, output: UnsafeMutablePointer<Float>,
  argmax: (indices: UnsafeMutablePointer<Int32>, base: Int32)?, geometry g: ConvGeometry
) {
  let c = g.inChannels
  for ow in 0..<g.outWidth {
    let out = output + ow * c, index = argmax.map { (values: $0.indices + ow * c, base: $0.base) }
    var first = true
    g.forEachTap(oh: oh, ow: ow) { _, _, ih, iw in
      let pixel = (ih * g.width + iw) * c
      if first {  // the first tap inside the image starts the maximum
        out.update(from: image + pixel, count: c)
        if let index { for ch in 0..<c { index.values[ch] = index.base + Int32(pixel + ch) } }
        first = false
      } else if let index {
        maxInPlace(out, index.values, image + pixel, base: index.base + Int32(pixel), c)
      } else {
        maxInPlace(out, image + pixel, c)
      }
    }
  }
}

/// `out[i] = max(out[i], x[i])`, recording `base + i` in `index` where `x` wins; branch-free
/// so it vectorises. Ties keep the earlier tap, as PyTorch does.
@inline(__always)
private func maxInPlace(
  _ out: UnsafeMutablePointer<Float>, _ index: UnsafeMutablePointer<Int32>, _ x: UnsafePointer<Float>,
  base: Int32, _ count: Int
) {
  for i in 0..<count {
    let wins = x[i] > out[i]
    out[i] = wins ? x[i] : out[i]
    index[i] = wins ? base &+ Int32(truncatingIfNeeded: i) : index[i]
  }
}

/// `out[i] = max(out[i], x[i])`, ties and NaN in `x` keeping `out[i]` as the indexed form does.
@inline(__always)
private func maxInPlace(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int) {
  for i in 0..<count { out[i] = x[i] > out[i] ? x[i] : out[i] }
}

/// Routes each output gradient to the input position that won the max; `dX` is overwritten.
/// Split by image, so overlapping windows never write concurrently.
public func maxPool2dBackward(
  dY: UnsafePointer<Float>, argmax: UnsafePointer<Int32>, dX: UnsafeMutablePointer<Float>,
  geometry g: ConvGeometry
) {
  let inputPerImage = g.height * g.width * g.inChannels
  let outputPerImage = g.outHeight * g.outWidth * g.inChannels
  Parallel.forEachRange(g.batch) { images in
    (dX + images.lowerBound * inputPerImage).update(repeating: 0, count: images.count * inputPerImage)
    for i in (images.lowerBound * outputPerImage)..<(images.upperBound * outputPerImage) {
      dX[Int(argmax[i])] += dY[i]
    }
  }
}

/// Average pooling.
public func avgPool2dForward(
  input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, geometry g: ConvGeometry,
  countIncludesPadding: Bool = true
) {
  let c = g.inChannels
  Parallel.forEachRange(g.batch * g.outHeight) { rows in
    for row in rows {
      let n = row / g.outHeight, oh = row % g.outHeight
      for ow in 0..<g.outWidth {
        let out = output + ((n * g.outHeight + oh) * g.outWidth + ow) * c
        out.update(repeating: 0, count: c)
        g.forEachTap(oh: oh, ow: ow) { _, _, ih, iw in
          addInPlace(out, input + ((n * g.height + ih) * g.width + iw) * c, c)
        }
        let scale = 1 / Float(g.poolDivisor(oh: oh, ow: ow, countIncludesPadding: countIncludesPadding))
        for ch in 0..<c { out[ch] *= scale }
      }
    }
  }
}

/// Spreads each output gradient evenly over its window; `dX` is overwritten.
public func avgPool2dBackward(
  dY: UnsafePointer<Float>, dX: UnsafeMutablePointer<Float>, geometry g: ConvGeometry,
  countIncludesPadding: Bool = true
) {
  let c = g.inChannels
  let inputPerImage = g.height * g.width * c
  Parallel.forEachRange(g.batch) { images in
    (dX + images.lowerBound * inputPerImage).update(repeating: 0, count: images.count * inputPerImage)
    for n in images {
      for oh in 0..<g.outHeight {
        for ow in 0..<g.outWidth {
          let gradient = dY + ((n * g.outHeight + oh) * g.outWidth + ow) * c
          let scale = 1 / Float(g.poolDivisor(oh: oh, ow: ow, countIncludesPadding: countIncludesPadding))
          g.forEachTap(oh: oh, ow: ow) { _, _, ih, iw in
            let target = dX + ((n * g.height + ih) * g.width + iw) * c
            for ch in 0..<c { target[ch] += gradient[ch] * scale }
          }
        }
      }
    }
  }
}

/// Global average pooling: `[N, H, W, C]` → `[N, C]`.
public func globalAvgPoolForward(
  input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int, pixels: Int, channels: Int
) {
  let scale = 1 / Float(pixels)
  Parallel.forEachRange(batch) { images in
    for n in images {
      let out = output + n * channels
      out.update(repeating: 0, count: channels)
      for p in 0..<pixels { addInPlace(out, input + (n * pixels + p) * channels, channels) }
      for ch in 0..<channels { out[ch] *= scale }
    }
  }
}

/// Backward of global average pooling: every pixel receives `dY / (H · W)`.
public func globalAvgPoolBackward(
  dY: UnsafePointer<Float>, dX: UnsafeMutablePointer<Float>, batch: Int, pixels: Int, channels: Int
) {
  let scale = 1 / Float(pixels)
  Parallel.forEachRange(batch) { images in
    for n in images {
      for p in 0..<pixels {
        let target = dX + (n * pixels + p) * channels
        for ch in 0..<channels { target[ch] = dY[n * channels + ch] * scale }
      }
    }
  }
}

extension ConvGeometry {
  /// The number of values an average-pooling window divides by at `(oh, ow)`.
  func poolDivisor(oh: Int, ow: Int, countIncludesPadding: Bool) -> Int {
    let h0 = oh * stride - padTop, w0 = ow * stride - padLeft
    if countIncludesPadding {
      // PyTorch clips the window to the padded input, not to the image.
      let h1 = min(h0 + kernelHeight, height + padTop), w1 = min(w0 + kernelWidth, width + padLeft)
      return (h1 - h0) * (w1 - w0)
    }
    let rows = min(h0 + kernelHeight, height) - max(h0, 0)
    let columns = min(w0 + kernelWidth, width) - max(w0, 0)
    return max(rows * columns, 1)
  }
}
