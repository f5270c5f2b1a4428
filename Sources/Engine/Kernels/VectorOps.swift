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

/// Runs `body(rows, partial)` on one range of rows per worker, each with its own zeroed
/// `width`-long partial sum, and returns the partials added together (in Double).
func reduceOverRows(
  _ rows: Int, width: Int, _ body: (Range<Int>, UnsafeMutablePointer<Float>) -> Void
) -> [Double] {
  let workers = min(Parallel.threadCount, max(rows, 1))
  let partials = UnsafeMutablePointer<Float>.allocate(capacity: workers * width)
  partials.initialize(repeating: 0, count: workers * width)
  defer { partials.deallocate() }
  let used = Parallel.forEachWorker(rows) { worker, range in body(range, partials + worker * width) }
  var total = [Double](repeating: 0, count: width)
  for worker in 0..<used {
    for i in 0..<width { total[i] += Double(partials[worker * width + i]) }
  }
  return total
}

/// Adds the column sums of a `rows × columns` matrix to `sums` (length `columns`).
func addColumnSums(_ matrix: UnsafePointer<Float>, rows: Int, columns: Int, into sums: UnsafeMutablePointer<Float>) {
  let total = reduceOverRows(rows, width: columns) { range, partial in
    for r in range { addInPlace(partial, matrix + r * columns, columns) }
  }
  for i in 0..<columns { sums[i] += Float(total[i]) }
}
