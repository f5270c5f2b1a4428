/// Batch normalisation over the channels of an NHWC tensor viewed as `[rows, C]`
/// (`rows = N · H · W`).
///
/// Training mode normalises with the batch mean and biased variance; evaluation mode with
/// the running estimates. Reference: Ioffe & Szegedy (2015);
/// https://pytorch.org/docs/stable/generated/torch.nn.BatchNorm2d.html

/// Per-channel mean and biased variance of a `[rows, C]` matrix, reading memory once: each
/// block of ``reductionBlockRows`` rows is summed, then its squared deviations from its own
/// mean are summed while the block is still in cache (``ChannelKernels/blockMoments``), and
/// the blocks' (count, mean, sum of squared deviations) are merged in Double with Chan, Golub
/// and LeVeque's pairwise update — as accurate as two passes over the whole matrix, which
/// the update replaced.
public func batchNormStatistics(
  _ x: UnsafePointer<Float>, rows: Int, channels c: Int
) -> (mean: [Float], variance: [Float]) {
  let workers = min(Parallel.threadCount, max(rows, 1))
  var merged = (0..<workers).map { _ in ChannelMoments(channels: c) }  // each worker's own buffers
  let used = merged.withUnsafeMutableBufferPointer { moments in
    Parallel.forEachWorker(rows) { worker, range in
      moments[worker].add(rows: range.count, of: x + range.lowerBound * c)
    }
  }
  var total = ChannelMoments(channels: c)
  for worker in 0..<used { total.merge(merged[worker]) }
  return total.statistics
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

  /// Adds `rows` rows of ``mean``'s count of channels at `x`, one block of
  /// ``reductionBlockRows`` rows at a time (``ChannelKernels/blockMoments``).
  mutating func add(rows: Int, of x: UnsafePointer<Float>) {
    let c = mean.count, kernels = ChannelKernels.active
    withScratch(count: 2 * c) { scratch in
      let (blockMean, deviations) = (scratch, scratch + c)
      for start in stride(from: 0, to: rows, by: reductionBlockRows) {
        let count = min(reductionBlockRows, rows - start)
        scratch.update(repeating: 0, count: 2 * c)
        kernels.blockMoments(count, c, x + start * c, blockMean, deviations)
        merge(count: count, mean: blockMean, squaredDeviations: deviations)
      }
    }
  }

  /// The mean and biased variance of the rows seen, in Float.
  var statistics: (mean: [Float], variance: [Float]) {
    let rowCount = Double(max(count, 1))
    return (mean.map { Float($0) }, squaredDeviations.map { Float($0 / rowCount) })
  }

  /// Adds another set's moments.
  mutating func merge(_ other: ChannelMoments) {
    other.mean.withUnsafeBufferPointer { m in
      other.squaredDeviations.withUnsafeBufferPointer { d in merge(count: other.count, mean: m.baseAddress!, squaredDeviations: d.baseAddress!) }
    }
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

/// `y = (x − mean) · invStd · gamma + beta`, applied as one fused multiply-add per value, and
/// clamped as `clamp` in the same pass when given (the activation after the batch norm).
public func batchNormApply(
  _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, channels c: Int,
  mean: [Float], invStd: [Float], gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, clamp: ClampActivation? = nil
) {
  PendingNormalization(x, rows: rows, channels: c, mean: mean, invStd: invStd, gamma: gamma, beta: beta, clamp: clamp)
    .writeAll(into: y)
}

/// A `[rows, C]` result written on demand, row by row: whole, or a band of rows at a time
/// into cache for the layer that reads it.
protocol RowsOnDemand {
  var rows: Int { get }
  var channels: Int { get }
  /// Writes rows `range` to `target` (non-temporally when `streaming` is 1).
  func write(rows range: Range<Int>, into target: UnsafeMutablePointer<Float>, streaming: Int32)
}

extension RowsOnDemand {
  /// Writes rows `range` to `target`, through the caches.
  func write(rows range: Range<Int>, into target: UnsafeMutablePointer<Float>) { write(rows: range, into: target, streaming: 0) }

  /// Writes every row to `target`, in parallel (past the caches when large).
  func writeAll(into target: UnsafeMutablePointer<Float>) {
    let streaming = ChannelKernels.streams(rows * channels)
    Parallel.forEachRange(rows) { range in write(rows: range, into: target + range.lowerBound * channels, streaming: streaming) }
  }
}

/// A batch norm's output, with the clamp after it, written on demand: `y = clamp(x · scale +
/// shift)` for rows of its `[rows, C]` view, all at once (``batchNormApply(_:_:rows:channels:mean:invStd:gamma:beta:clamp:)``)
/// or a band at a time into cache for the depthwise convolution that reads it
/// (``Conv2D/forwardCollectingStatistics(normalizing:of:bandFloats:)``), so that it is never
/// written whole.
struct PendingNormalization: RowsOnDemand {
  let x: UnsafePointer<Float>
  let rows: Int, channels: Int
  let clamp: ClampActivation?
  /// The per-channel scale, then shift.
  private let affine: [Float]

  init(
    _ x: UnsafePointer<Float>, rows: Int, channels: Int, mean: [Float], invStd: [Float], gamma: UnsafePointer<Float>,
    beta: UnsafePointer<Float>, clamp: ClampActivation?
  ) {
    (self.x, self.rows, self.channels, self.clamp) = (x, rows, channels, clamp)
    let (scale, shift) = batchNormAffine(mean: mean, invStd: invStd, gamma: gamma, beta: beta)
    affine = scale + shift
  }

  func write(rows range: Range<Int>, into target: UnsafeMutablePointer<Float>, streaming: Int32) {
    let c = channels
    affine.withUnsafeBufferPointer { p in
      ChannelKernels.active.affine(
        range.count, c, x + range.lowerBound * c, p.baseAddress!, p.baseAddress! + c, clamp == nil ? 0 : 1,
        clamp?.ceiling ?? 0, target, streaming)
    }
  }
}

/// Gradients of batch norm. With `batchStatistics` the normalisation used the batch's own
/// mean and variance, so `dX` includes their dependence on `x`:
/// `dX = gamma · invStd / M · (M · dY − Σ dY − x̂ · Σ dY·x̂)`; otherwise
/// `dX = dY · gamma · invStd`. `dGamma += Σ dY·x̂`, `dBeta += Σ dY`.
///
/// With `clamp` (the ReLU/ReLU6 that followed, and the `beta` the forward used), `dY` is the
/// gradient at the clamp's output: each value is masked where the recomputed normalised
/// value was clamped — the same fused multiply-add ``batchNormApply`` compared, so the same
/// mask — while it is in a register, and the activation's own pass over memory is never made.
public func batchNormBackward(
  x: UnsafePointer<Float>, dY: UnsafePointer<Float>, rows: Int, channels c: Int,
  mean: [Float], invStd: [Float], gamma: UnsafePointer<Float>, batchStatistics: Bool,
  dX: UnsafeMutablePointer<Float>?, dGamma: UnsafeMutablePointer<Float>?,
  dBeta: UnsafeMutablePointer<Float>?, clamp: (activation: ClampActivation, beta: UnsafePointer<Float>)? = nil
) {
  let sums = BatchNormGradientSums(x: x, rows: rows, channels: c, mean: mean, invStd: invStd, gamma: gamma, clamp: clamp)
  let gradient = BatchNormInputGradient(
    dY: dY, sums: sums, gamma: gamma, batchStatistics: batchStatistics, dGamma: dGamma, dBeta: dBeta)
  if let dX { gradient.writeAll(into: dX) }
}

/// Batch norm's input gradient as per-channel terms, `dX = a · mask(dY) + b · x + bias`, from
/// the sums over `x` and `dY` (its first pass, or sums the layer after it gathered while writing
/// `dY`: ``GradientSumsGatherer``), which it adds to `dGamma` and `dBeta`; rows of `dX` are then
/// written in any order and any grouping (``batchNormBackward(x:dY:rows:channels:mean:invStd:gamma:batchStatistics:dX:dGamma:dBeta:clamp:)``
/// all at once, a convolution's backward band by band: ``ConvolutionNormalizationBackward``).
struct BatchNormInputGradient: RowsOnDemand {
  let x: UnsafePointer<Float>, dY: UnsafePointer<Float>
  let rows: Int, channels: Int
  /// `a`, `b`, `bias` and, with a clamp, the mask's scale and shift: `channels` floats each.
  private let terms: [Float]
  private let ceiling: Float?

  /// The terms from `sums` over the rows of `dY` (see ``batchNormBackward(x:dY:rows:channels:mean:invStd:gamma:batchStatistics:dX:dGamma:dBeta:clamp:)``):
  /// `gathered` when given, else computed here.
  init(
    dY: UnsafePointer<Float>, sums: BatchNormGradientSums, gathered: [Double]? = nil, gamma: UnsafePointer<Float>,
    batchStatistics: Bool, dGamma: UnsafeMutablePointer<Float>?, dBeta: UnsafeMutablePointer<Float>?
  ) {
    let c = sums.channels
    (x, self.dY, rows, channels, ceiling) = (sums.x, dY, sums.rows, c, sums.ceiling)
    // Without batch statistics the sums serve only γ's and β's gradients.
    let needsSums = batchStatistics || dGamma != nil || dBeta != nil
    let totals = gathered ?? (needsSums ? sums.total(over: dY) : Array(repeating: 0, count: 2 * c))
    precondition(totals.count == 2 * c, "BatchNorm.backward: gathered sums for \(totals.count / 2) channels, not \(c)")
    for ch in 0..<c {
      dBeta?[ch] += Float(totals[ch])
      dGamma?[ch] += Float(totals[c + ch])
    }
    let count = Float(rows), (mean, invStd) = (sums.mean, sums.invStd)
    var a = [Float](repeating: 0, count: c), b = [Float](repeating: 0, count: c)
    var bias = [Float](repeating: 0, count: c)
    for ch in 0..<c {
      // dX = a · dY + b · x + bias, folding x̂ = (x − mean) · invStd into per-channel terms.
      let k = gamma[ch] * invStd[ch]
      a[ch] = k
      guard batchStatistics else { continue }
      let meanDY = Float(totals[ch]) / count, meanDYXhat = Float(totals[c + ch]) / count
      b[ch] = -k * meanDYXhat * invStd[ch]
      bias[ch] = -k * meanDY + k * meanDYXhat * invStd[ch] * mean[ch]
    }
    terms = a + b + bias + sums.mask
  }

  func write(rows range: Range<Int>, into target: UnsafeMutablePointer<Float>, streaming: Int32) {
    let c = channels, first = range.lowerBound * c
    terms.withUnsafeBufferPointer { buffer in
      let p = buffer.baseAddress!
      ChannelKernels.active.inputGradient(
        range.count, c, x + first, dY + first, p, p + c, p + 2 * c, ceiling == nil ? nil : p + 3 * c,
        ceiling == nil ? nil : p + 4 * c, ceiling ?? 0, target, streaming)
    }
  }
}

/// Batch norm's gradient sums, `Σ mask(dY)` and `Σ mask(dY)·x̂` per channel, and what they
/// read besides `dY`: the recorded input `x` (`[rows, channels]`), the mean, 1/√(var + ε) and,
/// with the clamp that followed the batch norm, the scale and shift that recompute its mask.
struct BatchNormGradientSums {
  let x: UnsafePointer<Float>
  let rows: Int, channels: Int
  let mean: [Float], invStd: [Float]
  /// The clamp mask's per-channel scale, then shift; empty without a clamp.
  let mask: [Float]
  let ceiling: Float?

  init(
    x: UnsafePointer<Float>, rows: Int, channels: Int, mean: [Float], invStd: [Float], gamma: UnsafePointer<Float>,
    clamp: (activation: ClampActivation, beta: UnsafePointer<Float>)?
  ) {
    (self.x, self.rows, self.channels, self.mean, self.invStd) = (x, rows, channels, mean, invStd)
    ceiling = clamp?.activation.ceiling
    mask = clamp.map { batchNormAffine(mean: mean, invStd: invStd, gamma: gamma, beta: $0.beta) }.map { $0.scale + $0.shift } ?? []
  }

  /// Adds the sums of rows `range` — their gradient at `dY`, which points at the first of them —
  /// to `partial` (`2 · channels` floats: the sums of `mask(dY)`, then of `mask(dY)·x̂`).
  func add(rows range: Range<Int>, gradient dY: UnsafePointer<Float>, into partial: UnsafeMutablePointer<Float>) {
    let c = channels, kernels = ChannelKernels.active
    mean.withUnsafeBufferPointer { mean in
      invStd.withUnsafeBufferPointer { invStd in
        mask.withUnsafeBufferPointer { mask in
          let masked = ceiling != nil
          kernels.gradientSums(
            range.count, c, x + range.lowerBound * c, dY, mean.baseAddress!, invStd.baseAddress!,
            masked ? mask.baseAddress! : nil, masked ? mask.baseAddress! + c : nil, ceiling ?? 0, partial)
        }
      }
    }
  }

  /// The sums over every row of `dY`, in parallel: the sums of `mask(dY)`, then of `mask(dY)·x̂`.
  func total(over dY: UnsafePointer<Float>) -> [Double] {
    reduceOverRows(rows, width: 2 * channels) { range, partial in
      add(rows: range, gradient: dY + range.lowerBound * channels, into: partial)
    }
  }
}
