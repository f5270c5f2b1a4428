/// Batch normalisation over the channels of an NHWC tensor viewed as `[rows, C]`
/// (`rows = N · H · W`).
///
/// Training mode normalises with the batch mean and biased variance; evaluation mode with
/// the running estimates. Reference: Ioffe & Szegedy (2015);
/// https://pytorch.org/docs/stable/generated/torch.nn.BatchNorm2d.html

/// Per-channel mean and biased variance of a `[rows, C]` matrix, reading memory once: each
/// block of ``reductionBlockRows`` rows is summed, then its squared deviations from its own
/// mean are summed while the block is still in cache, and the blocks' (count, mean, sum of
/// squared deviations) are merged in Double with Chan, Golub and LeVeque's pairwise update —
/// as accurate as two passes over the whole matrix, which the update replaced.
public func batchNormStatistics(
  _ x: UnsafePointer<Float>, rows: Int, channels c: Int
) -> (mean: [Float], variance: [Float]) {
  let workers = min(Parallel.threadCount, max(rows, 1))
  var merged = (0..<workers).map { _ in ChannelMoments(channels: c) }  // each worker's own buffers
  let used = merged.withUnsafeMutableBufferPointer { moments in
    Parallel.forEachWorker(rows) { worker, range in
      withScratch(count: 2 * c) { scratch in
        let (blockMean, deviations) = (scratch, scratch + c)
        for start in stride(from: range.lowerBound, to: range.upperBound, by: reductionBlockRows) {
          let block = start..<min(start + reductionBlockRows, range.upperBound)
          blockMean.update(repeating: 0, count: c)
          for r in block { addInPlace(blockMean, x + r * c, c) }
          let count = Float(block.count)
          for ch in 0..<c { blockMean[ch] /= count }
          deviations.update(repeating: 0, count: c)
          for r in block { addSquaredDeviations(deviations, x + r * c, from: blockMean, c) }
          moments[worker].merge(count: block.count, mean: blockMean, squaredDeviations: deviations)
        }
      }
    }
  }
  var total = ChannelMoments(channels: c)
  for worker in 0..<used { total.merge(merged[worker]) }
  let rowCount = Double(max(rows, 1))
  return (total.mean.map { Float($0) }, total.squaredDeviations.map { Float($0 / rowCount) })
}

/// The count, per-channel mean and per-channel sum of squared deviations from the mean of a
/// set of rows, in Double; two sets merge into the moments of their union.
struct ChannelMoments {
  var count = 0
  var mean: [Double], squaredDeviations: [Double]

  init(channels: Int) {
    mean = Array(repeating: 0, count: channels)
    squaredDeviations = Array(repeating: 0, count: channels)
  }

  /// Adds a set of `count` rows with the given per-channel mean and squared deviations.
  mutating func merge<T: BinaryFloatingPoint>(count other: Int, mean otherMean: UnsafePointer<T>, squaredDeviations otherDeviations: UnsafePointer<T>) {
    guard other > 0 else { return }
    let (a, b) = (Double(count), Double(other))
    let total = a + b
    for ch in mean.indices {
      let delta = Double(otherMean[ch]) - mean[ch]
      mean[ch] += delta * b / total
      squaredDeviations[ch] += Double(otherDeviations[ch]) + delta * delta * a * b / total
    }
    count += other
  }

  /// Adds another set's moments.
  mutating func merge(_ other: ChannelMoments) {
    other.mean.withUnsafeBufferPointer { m in
      other.squaredDeviations.withUnsafeBufferPointer { d in merge(count: other.count, mean: m.baseAddress!, squaredDeviations: d.baseAddress!) }
    }
  }
}

/// `y[i] += (x[i] − m[i])²` for `i < count`, eight lanes at a time.
@inline(__always)
func addSquaredDeviations(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, from m: UnsafePointer<Float>, _ count: Int) {
  var i = 0
  while i + 8 <= count {
    let d = SIMD8<Float>.load(x + i, 8) - SIMD8<Float>.load(m + i, 8)
    (SIMD8<Float>.load(y + i, 8) + d * d).store(y + i, 8)
    i += 8
  }
  while i < count {
    let d = x[i] - m[i]
    y[i] += d * d
    i += 1
  }
}

/// The per-channel `scale = gamma · invStd` and `shift = beta − mean · scale` that
/// ``batchNormApply`` normalises with (and a fused backward recomputes its clamp mask with).
func batchNormAffine(mean: [Float], invStd: [Float], gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>) -> (scale: [Float], shift: [Float]) {
  var scale = [Float](repeating: 0, count: mean.count), shift = [Float](repeating: 0, count: mean.count)
  for ch in mean.indices {
    scale[ch] = gamma[ch] * invStd[ch]
    shift[ch] = beta[ch] - mean[ch] * scale[ch]
  }
  return (scale, shift)
}

/// `y = (x − mean) · invStd · gamma + beta`, applied as one multiply-add per value, and
/// clamped as `clamp` in the same pass when given (the activation after the batch norm).
public func batchNormApply(
  _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, channels c: Int,
  mean: [Float], invStd: [Float], gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, clamp: ClampActivation? = nil
) {
  let (scale, shift) = batchNormAffine(mean: mean, invStd: invStd, gamma: gamma, beta: beta)
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
///
/// With `clamp` (the ReLU/ReLU6 that followed, and the `beta` the forward used), `dY` is the
/// gradient at the clamp's output: each row of it is masked where the recomputed normalised
/// value was clamped — the same products ``batchNormApply`` compared, so the same mask —
/// while the row is in cache, and the activation's own pass over memory is never made.
public func batchNormBackward(
  x: UnsafePointer<Float>, dY: UnsafePointer<Float>, rows: Int, channels c: Int,
  mean: [Float], invStd: [Float], gamma: UnsafePointer<Float>, batchStatistics: Bool,
  dX: UnsafeMutablePointer<Float>?, dGamma: UnsafeMutablePointer<Float>?,
  dBeta: UnsafeMutablePointer<Float>?, clamp: (activation: ClampActivation, beta: UnsafePointer<Float>)? = nil
) {
  // The clamp's scale and shift, when there is one, follow the other per-channel arrays.
  let affine = clamp.map { batchNormAffine(mean: mean, invStd: invStd, gamma: gamma, beta: $0.beta) }.map { [$0.scale, $0.shift] } ?? []
  let sums = ([mean, invStd] + affine).withUnsafePointers { p in
    let (mean, invStd) = (p[0], p[1])
    let mask = clamp.map { ClampMask(scale: p[2], shift: p[3], ceiling: $0.activation.ceiling) }
    return reduceOverRows(rows, width: 2 * c) { range, partial in
      withUnsafeTemporaryAllocation(of: Float.self, capacity: c) { scratch in
        for r in range {
          let gradient = mask.map { $0.apply(dY + r * c, input: x + r * c, into: scratch.baseAddress!, channels: c) } ?? dY + r * c
          addGradientSums(x + r * c, gradient, mean: mean, invStd: invStd, channels: c, into: partial)
        }
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
  ([a, b, bias] + affine).withUnsafePointers { p in
    let (a, b, bias) = (p[0], p[1], p[2])
    let mask = clamp.map { ClampMask(scale: p[3], shift: p[4], ceiling: $0.activation.ceiling) }
    // Plain loops, which the compiler vectorises (with a check that dX overlaps no input).
    Parallel.forEachRange(rows) { range in
      for r in range {
        let input = x + r * c, gradient = dY + r * c, output = dX + r * c
        if let mask {
          for ch in 0..<c { output[ch] = a[ch] * mask.pass(gradient[ch], input: input[ch], channel: ch) + b[ch] * input[ch] + bias[ch] }
        } else {
          for ch in 0..<c { output[ch] = a[ch] * gradient[ch] + b[ch] * input[ch] + bias[ch] }
        }
      }
    }
  }
}

/// The gradient mask of a clamp after a batch norm, recomputed from the batch norm's input:
/// a value passes where `x · scale + shift` (computed as the forward computed it) lay
/// strictly inside `(0, ceiling)`. Written as plain loops, which the compiler vectorises to
/// compares and ANDs; Swift's `SIMDMask` selects compile to per-lane loops.
struct ClampMask {
  let scale: UnsafePointer<Float>, shift: UnsafePointer<Float>
  let ceiling: Float

  /// `gradient`, or 0 where the clamp held the value whose batch-norm input was `input`.
  @inline(__always)
  func pass(_ gradient: Float, input: Float, channel ch: Int) -> Float {
    ClampActivation.gradient(gradient, passedAt: input * scale[ch] + shift[ch], ceiling: ceiling)
  }

  /// Writes one row of `gradient`, masked, to `target` and returns `target`.
  @inline(__always)
  func apply(_ gradient: UnsafePointer<Float>, input: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, channels c: Int)
    -> UnsafePointer<Float>
  {
    for ch in 0..<c { target[ch] = pass(gradient[ch], input: input[ch], channel: ch) }
    return UnsafePointer(target)
  }
}

extension Array where Element == [Float] {
  /// Calls `body` with the base pointer of each array, in order (valid only inside `body`;
  /// every array must be non-empty).
  func withUnsafePointers<R>(_ body: ([UnsafePointer<Float>]) -> R) -> R {
    func nest(_ index: Int, _ pointers: [UnsafePointer<Float>]) -> R {
      guard index < count else { return body(pointers) }
      return self[index].withUnsafeBufferPointer { buffer in nest(index + 1, pointers + [buffer.baseAddress!]) }
    }
    return nest(0, [])
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
