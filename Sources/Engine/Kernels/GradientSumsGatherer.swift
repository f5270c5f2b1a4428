/// A batch norm's gradient sums (``BatchNormGradientSums``) taken from its output gradient
/// while the layer after it writes that gradient, a chunk at a time, each chunk read back
/// from cache (``ConvolutionNormalizationBackward``): the batch norm's own first pass, which
/// reads the whole gradient back from memory, is never made.
///
/// Workers add the chunks they wrote to sums of their own (``WorkerSums``, as the batch norm's
/// own pass sums).
final class GradientSumsGatherer {
  let sums: BatchNormGradientSums
  private let workers: Int
  private let workerSums: WorkerSums
  /// Rows each worker has added: the sums are whole when they add up to every row.
  private let rowCounts: UnsafeMutablePointer<Int>

  init(_ sums: BatchNormGradientSums) {
    (self.sums, workers) = (sums, Parallel.threadCount)
    workerSums = WorkerSums(workers: workers, width: 2 * sums.channels)
    rowCounts = .allocate(capacity: workers)
    rowCounts.initialize(repeating: 0, count: workers)
  }

  deinit { rowCounts.deallocate() }

  /// Adds rows `range` of the gradient, at `dY` (which points at the first of them), to
  /// `worker`'s sums. Each worker calls it for rows no other worker adds.
  func add(worker: Int, rows range: Range<Int>, gradient dY: UnsafePointer<Float>) {
    workerSums.add(worker: worker, rows: range) { rows, partial in
      sums.add(rows: rows, gradient: dY + (rows.lowerBound - range.lowerBound) * sums.channels, into: partial)
    }
    rowCounts[worker] += range.count
  }

  /// The sums over every row (of `mask(dY)`, then of `mask(dY)·x̂`), or nil when not every row
  /// was added.
  var total: [Double]? {
    guard (0..<workers).reduce(0, { $0 + rowCounts[$1] }) == sums.rows else { return nil }
    return workerSums.total(workers: workers)
  }
}
