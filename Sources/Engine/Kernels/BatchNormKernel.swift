/// Batch normalisation over the channels of an NHWC tensor viewed as `[rows, C]`
/// (`rows = N · H · W`).
///
/// Training mode normalises with the batch mean and biased variance; evaluation mode with
/// the running estimates. Reference: Ioffe & Szegedy (2015);
/// https://pytorch.org/docs/stable/generated/torch.nn.BatchNorm2d.html

/// Per-channel mean and biased variance of a `[rows, C]` matrix (two passes, for accuracy).
public func batchNormStatistics(
  _ x: UnsafePointer<Float>, rows: Int, channels c: Int
) -> (mean: [Float], variance: [Float]) {
  let sums = reduceOverRows(rows, width: c) { range, partial in
    for r in range { addInPlace(partial, x + r * c, c) }
  }
  let mean = sums.map { Float($0 / Double(max(rows, 1))) }
  let squares = mean.withUnsafeBufferPointer { meanBuffer in
    let m = meanBuffer.baseAddress!
    return reduceOverRows(rows, width: c) { range, partial in
      for r in range {
        let row = x + r * c
        for ch in 0..<c {
          let d = row[ch] - m[ch]
          partial[ch] += d * d
        }
      }
    }
  }
  return (mean, squares.map { Float($0 / Double(max(rows, 1))) })
}

/// `y = (x − mean) · invStd · gamma + beta`, applied as one multiply-add per value, and
/// clamped as `clamp` in the same pass when given (the activation after the batch norm).
public func batchNormApply(
  _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, channels c: Int,
  mean: [Float], invStd: [Float], gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, clamp: ClampActivation? = nil
) {
  var scale = [Float](repeating: 0, count: c), shift = [Float](repeating: 0, count: c)
  for ch in 0..<c {
    scale[ch] = gamma[ch] * invStd[ch]
    shift[ch] = beta[ch] - mean[ch] * scale[ch]
  }
  scale.withUnsafeBufferPointer { scaleBuffer in
    shift.withUnsafeBufferPointer { shiftBuffer in
      let s = scaleBuffer.baseAddress!, t = shiftBuffer.baseAddress!
      Parallel.forEachRange(rows) { range in
        if let clamp {
          let ceiling = clamp.ceiling
          for r in range {
            let input = x + r * c, output = y + r * c
            for ch in 0..<c { output[ch] = min(max(input[ch] * s[ch] + t[ch], 0), ceiling) }
          }
          return
        }
        for r in range {
          let input = x + r * c, output = y + r * c
          for ch in 0..<c { output[ch] = input[ch] * s[ch] + t[ch] }
        }
      }
    }
  }
}

/// Gradients of batch norm. With `batchStatistics` the normalisation used the batch's own
/// mean and variance, so `dX` includes their dependence on `x`:
/// `dX = gamma · invStd / M · (M · dY − Σ dY − x̂ · Σ dY·x̂)`; otherwise
/// `dX = dY · gamma · invStd`. `dGamma += Σ dY·x̂`, `dBeta += Σ dY`.
public func batchNormBackward(
  x: UnsafePointer<Float>, dY: UnsafePointer<Float>, rows: Int, channels c: Int,
  mean: [Float], invStd: [Float], gamma: UnsafePointer<Float>, batchStatistics: Bool,
  dX: UnsafeMutablePointer<Float>?, dGamma: UnsafeMutablePointer<Float>?,
  dBeta: UnsafeMutablePointer<Float>?
) {
  let sums = mean.withUnsafeBufferPointer { m in
    invStd.withUnsafeBufferPointer { s in
      reduceOverRows(rows, width: 2 * c) { range, partial in
        let (m, s) = (m.baseAddress!, s.baseAddress!)
        for r in range { addGradientSums(x + r * c, dY + r * c, mean: m, invStd: s, channels: c, into: partial) }
      }
    }
  }
  for ch in 0..<c {
    dBeta?[ch] += Float(sums[ch])
    dGamma?[ch] += Float(sums[c + ch])
  }
  guard let dX else { return }
  let count = Float(rows)
  var a = [Float](repeating: 0, count: c), b = [Float](repeating: 0, count: c)
  var bias = [Float](repeating: 0, count: c)
  for ch in 0..<c {
    // dX = a · dY + b · x + bias, folding x̂ = (x − mean) · invStd into per-channel terms.
    let k = gamma[ch] * invStd[ch]
    a[ch] = k
    guard batchStatistics else { continue }
    let meanDY = Float(sums[ch]) / count, meanDYXhat = Float(sums[c + ch]) / count
    b[ch] = -k * meanDYXhat * invStd[ch]
    bias[ch] = -k * meanDY + k * meanDYXhat * invStd[ch] * mean[ch]
  }
  a.withUnsafeBufferPointer { ab in
    b.withUnsafeBufferPointer { bb in
      bias.withUnsafeBufferPointer { cb in
        let pa = ab.baseAddress!, pb = bb.baseAddress!, pc = cb.baseAddress!
        Parallel.forEachRange(rows) { range in
          for r in range {
            let input = x + r * c, gradient = dY + r * c, output = dX + r * c
            for ch in 0..<c { output[ch] = pa[ch] * gradient[ch] + pb[ch] * input[ch] + pc[ch] }
          }
        }
      }
    }
  }
}

/// One row's terms of batch norm's backward sums, eight channels per vector: `Σ dY` into
/// `sums[0..<c]` and `Σ dY·x̂` into `sums[c..<2c]` (written out with vectors because the
/// compiler leaves this loop scalar: it cannot rule out that `sums` overlaps the inputs).
@inline(__always)
private func addGradientSums(_ input: UnsafePointer<Float>, _ gradient: UnsafePointer<Float>, mean: UnsafePointer<Float>,
                             invStd: UnsafePointer<Float>, channels c: Int, into sums: UnsafeMutablePointer<Float>) {
  var ch = 0
  while ch < c {
    let width = min(8, c - ch)
    let g = SIMD8<Float>.load(gradient + ch, width)
    let product = g * (SIMD8<Float>.load(input + ch, width) - SIMD8<Float>.load(mean + ch, width)) * SIMD8<Float>.load(invStd + ch, width)
    (SIMD8<Float>.load(sums + ch, width) + g).store(sums + ch, width)
    (SIMD8<Float>.load(sums + c + ch, width) + product).store(sums + c + ch, width)
    ch += 8
  }
}
