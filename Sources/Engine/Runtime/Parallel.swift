import CBLAS
import Dispatch
import Foundation

/// How Podium spreads work over the cores.
///
/// OpenBLAS is switched to one thread per call; Podium splits every large GEMM and every
/// other kernel into one range per worker itself (``forEachRange(_:_:)``), so the cores are
/// never oversubscribed by two thread pools and convolution can fuse im2col with its GEMM
/// per chunk. The worker count is the number of active cores, or `PODIUM_THREADS`.
public enum Parallel {
  private static let state = State()

  /// Number of workers used by the kernels.
  public static var threadCount: Int {
    get { state.threadCount }
    set { state.threadCount = max(1, newValue) }
  }

  private final class State: @unchecked Sendable {
    var threadCount: Int
    init() {
      openblas_set_num_threads(1)
      let fromEnvironment = ProcessInfo.processInfo.environment["PODIUM_THREADS"].flatMap { Int($0) }
      threadCount = max(1, fromEnvironment ?? ProcessInfo.processInfo.activeProcessorCount)
    }
  }

  /// Splits `0..<count` into at most ``threadCount`` contiguous ranges of near-equal size
  /// and runs `body` on each, in parallel. Returns when all are done.
  ///
  /// Ranges never overlap, so `body` may write to disjoint parts of one buffer.
  public static func forEachRange(_ count: Int, _ body: (Range<Int>) -> Void) {
    let workers = min(threadCount, count)
    if workers <= 1 {
      if count > 0 { body(0..<count) }
      return
    }
    DispatchQueue.concurrentPerform(iterations: workers) { worker in
      body(range(worker, of: workers, splitting: count))
    }
  }

  /// Like ``forEachRange(_:_:)`` but also passes the worker index `0..<workers`, for
  /// per-worker scratch and partial sums. Returns the number of workers used.
  @discardableResult
  public static func forEachWorker(_ count: Int, _ body: (_ worker: Int, Range<Int>) -> Void) -> Int {
    let workers = min(threadCount, count)
    if workers <= 1 {
      if count > 0 { body(0, 0..<count) }
      return 1
    }
    DispatchQueue.concurrentPerform(iterations: workers) { worker in
      body(worker, range(worker, of: workers, splitting: count))
    }
    return workers
  }

  /// The `worker`-th of `workers` near-equal contiguous ranges of `0..<count`.
  static func range(_ worker: Int, of workers: Int, splitting count: Int) -> Range<Int> {
    let start = count * worker / workers
    let end = count * (worker + 1) / workers
    return start..<end
  }

  /// A chunk size of at most `chunk` that cuts `count` items into near-equal chunks, as many
  /// for every worker of ``forEachRange(_:_:)`` over the chunks: 1568 rows in chunks of 512
  /// would be 4 chunks of which the last holds 32 rows, and one worker would compute 1024 rows
  /// while the other waits after 544; balanced, they are 4 chunks of 392. No worker gets more
  /// than its share of the items plus one item per chunk it takes. `count` items that fit in
  /// one chunk stay one.
  public static func balancedChunk(_ count: Int, atMost chunk: Int) -> Int {
    let chunk = max(1, chunk)
    guard count > chunk else { return max(1, count) }
    let workers = max(1, min(threadCount, count))
    let chunks = ((count + chunk - 1) / chunk + workers - 1) / workers * workers
    return (count + chunks - 1) / chunks
  }

  /// Ensures OpenBLAS has been set to single-threaded calls before the first GEMM.
  static func prepare() { _ = state }
}
