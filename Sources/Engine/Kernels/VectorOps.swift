/// Small vector loops over raw pointers that the other kernels share. Each is a single
/// loop the compiler vectorises (`-target-cpu x86-64-v3`: 8 floats per instruction).

/// `y[i] += x[i]` for `i < count`.
@inline(__always)
func addInPlace(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int) {
  for i in 0..<count { y[i] += x[i] }
}

/// `y[i] += a[i] · b[i]` for `i < count`.
@inline(__always)
func multiplyAdd(_ y: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) {
  for i in 0..<count { y[i] += a[i] * b[i] }
}

/// Adds `bias` (length `columns`) to every row of a `rows × columns` matrix, in parallel.
func addRowVector(_ matrix: UnsafeMutablePointer<Float>, rows: Int, columns: Int, _ bias: UnsafePointer<Float>) {
  Parallel.forEachRange(rows) { range in
    for r in range { addInPlace(matrix + r * columns, bias, columns) }
  }
}

/// Runs `body(rows, partial)` over every row, in blocks of at most ``reductionBlockRows``
/// rows: each block sums into a zeroed Float `partial` of `width` values (the vectorised
/// loop), which is then added to its worker's Double total. Float rounding therefore
/// accumulates over one block only, not over the hundreds of thousands of rows (N·H·W) a
/// worker covers; the totals come back added together in Double.
func reduceOverRows(
  _ rows: Int, width: Int, _ body: (Range<Int>, UnsafeMutablePointer<Float>) -> Void
) -> [Double] {
  let sums = WorkerSums(workers: min(Parallel.threadCount, max(rows, 1)), width: width)
  let used = Parallel.forEachWorker(rows) { worker, range in sums.add(worker: worker, rows: range, body) }
  return sums.total(workers: used)
}

/// Per-worker sums of `width` values over rows, as ``reduceOverRows(_:width:_:)`` takes them:
/// Float over blocks of at most ``reductionBlockRows`` rows, then each worker's Double total.
final class WorkerSums {
  let width: Int
  private let blocks: UnsafeMutablePointer<Float>
  private let totals: UnsafeMutablePointer<Double>
  private let capacity: Int

  init(workers: Int, width: Int) {
    (capacity, self.width) = (workers, width)
    blocks = .allocate(capacity: workers * width)
    totals = .allocate(capacity: workers * width)
    totals.initialize(repeating: 0, count: workers * width)
  }

  deinit {
    blocks.deallocate()
    totals.deallocate()
  }

  /// Adds `body(block, partial)` over rows `range`, block by block, to `worker`'s total. Each
  /// worker calls it only from its own thread.
  func add(worker: Int, rows range: Range<Int>, _ body: (Range<Int>, UnsafeMutablePointer<Float>) -> Void) {
    precondition(worker < capacity, "WorkerSums: worker \(worker) of \(capacity)")
    let block = blocks + worker * width, total = totals + worker * width
    for start in stride(from: range.lowerBound, to: range.upperBound, by: reductionBlockRows) {
      block.update(repeating: 0, count: width)
      body(start..<min(start + reductionBlockRows, range.upperBound), block)
      for i in 0..<width { total[i] += Double(block[i]) }
    }
  }

  /// The first `workers` workers' totals added together.
  func total(workers: Int) -> [Double] {
    var sum = [Double](repeating: 0, count: width)
    for worker in 0..<min(workers, capacity) {
      for i in 0..<width { sum[i] += totals[worker * width + i] }
    }
    return sum
  }
}

/// Rows summed in Float before the sum moves to Double in ``reduceOverRows(_:width:_:)``:
/// small enough that a block's rounding stays near Float's precision, large enough that the
/// Double additions cost nothing beside the block's own pass.
let reductionBlockRows = 256

/// Adds the column sums of a `rows × columns` matrix to `sums` (length `columns`).
func addColumnSums(_ matrix: UnsafePointer<Float>, rows: Int, columns: Int, into sums: UnsafeMutablePointer<Float>) {
  let total = reduceOverRows(rows, width: columns) { range, partial in
    for r in range { addInPlace(partial, matrix + r * columns, columns) }
  }
  for i in 0..<columns { sums[i] += Float(total[i]) }
}
