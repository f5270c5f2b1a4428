/// A batch norm's gradient sums (``BatchNormGradientSums``) taken from its output gradient
/// while the layer after it writes that gradient, a chunk at a time, each chunk read back
/// from cache (``ConvolutionNormalizationBackward``): the batch norm's own first pass, which
/// reads the whole gradient back from memory, is never made.
///
/// Workers add the chunks they wrote to sums of their own — in Float over at most
/// ``reductionBlockRows`` rows, then in Double, as the batch norm's own pass does.
final class GradientSumsGatherer {
  let sums: BatchNormGradientSums
  private let workers: Int
  private let totals: UnsafeMutablePointer<Double>
  private let blocks: UnsafeMutablePointer<Float>
  /// Rows each worker has added: the sums are whole when they add up to every row.
  private let rowCounts: UnsafeMutablePointer<Int>

  init(_ sums: BatchNormGradientSums) {
    self.sums = sums
    workers = Parallel.threadCount
    let width = 2 * sums.channels
    totals = .allocate(capacity: workers * width)
    totals.initialize(repeating: 0, count: workers * width)
    blocks = .allocate(capacity: workers * width)
    rowCounts = .allocate(capacity: workers)
    rowCounts.initialize(repeating: 0, count: workers)
  }

  deinit {
    totals.deallocate()
    blocks.deallocate()
    rowCounts.deallocate()
  }

  /// Adds rows `range` of the gradient, at `dY` (which points at the first of them), to
  /// `worker`'s sums. Each worker calls it for rows no other worker adds.
  func add(worker: Int, rows range: Range<Int>, gradient dY: UnsafePointer<Float>) {
    precondition(worker < workers, "GradientSumsGatherer: worker \(worker) of \(workers)")
    let width = 2 * sums.channels, block = blocks + worker * width, total = totals + worker * width
    for start in stride(from: range.lowerBound, to: range.upperBound, by: reductionBlockRows) {
      let rows = start..<min(start + reductionBlockRows, range.upperBound)
      block.update(repeating: 0, count: width)
      sums.add(rows: rows, gradient: dY + (start - range.lowerBound) * sums.channels, into: block)
      for i in 0..<width { total[i] += Double(block[i]) }
    }
    rowCounts[worker] += range.count
  }

  /// The sums over every row (of `mask(dY)`, then of `mask(dY)·x̂`), or nil when not every row
  /// was added (the layer after took its gradient whole and gathered nothing).
  var total: [Double]? {
    guard (0..<workers).reduce(0, { $0 + rowCounts[$1] }) == sums.rows else { return nil }
    let width = 2 * sums.channels
    var sum = [Double](repeating: 0, count: width)
    for worker in 0..<workers {
      for i in 0..<width { sum[i] += totals[worker * width + i] }
    }
    return sum
  }
}
