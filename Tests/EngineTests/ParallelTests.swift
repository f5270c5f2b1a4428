@testable import Engine
import EngineTestSupport
import XCTest

/// How work is cut for the workers.
final class ParallelTests: XCTestCase {
  /// Balanced chunks are no larger than asked, cover every item, and give no worker more
  /// than its share plus one item per chunk it takes: a short last chunk never leaves one
  /// worker with a whole chunk more than another. What fits in one chunk stays one.
  func testBalancedChunks_giveEveryWorkerItsShare() {
    let saved = Parallel.threadCount
    defer { Parallel.threadCount = saved }
    withEvery("workers", in: [2, 3, 4]) { workers in
      Parallel.threadCount = workers
      withEvery("count", in: [1, 5, 97, 1568, 6272, 25088, 100_000]) { count in
        withEvery("at most", in: [1, 7, 64, 512, 4096, 200_000]) { atMost in
          let chunk = Parallel.balancedChunk(count, atMost: atMost)
          guard count > atMost else { return XCTAssertEqual(chunk, count, "what fits in one chunk stays one") }
          XCTAssertTrue(chunk >= 1 && chunk <= atMost, "chunk \(chunk)")
          let chunks = (count + chunk - 1) / chunk, used = min(workers, chunks)
          let rows = (0..<used).map { worker in
            Parallel.range(worker, of: used, splitting: chunks).map { min(chunk, count - $0 * chunk) }.reduce(0, +)
          }
          XCTAssertEqual(rows.reduce(0, +), count, "every item once")
          let share = (count + workers - 1) / workers, chunksPerWorker = (chunks + used - 1) / used
          XCTAssertLessThanOrEqual(rows.max()!, share + chunksPerWorker, "the busiest worker's rows of \(rows)")
        }
      }
    }
    Parallel.threadCount = 2
    XCTAssertEqual(Parallel.balancedChunk(1568, atMost: 512), 392)
  }
}
