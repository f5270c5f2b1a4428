import GRDB
import Sweeps

/// The sweep runner writes through this conformance.
extension ResultsStore: ResultSink {
  public func completeRun(_ id: Int64, _ completion: RunCompletion) throws {
    try finishRun(id, completion)
  }

  public func finishedMetrics(sweep: Int64, epoch: Int) throws -> [Double] {
    try read { db in
      try Double.fetchAll(db, sql: """
        SELECT epochs.val_metric FROM epochs JOIN runs ON runs.id = epochs.run_id
        WHERE runs.sweep_id = ? AND runs.status = 'done' AND epochs.epoch = ?
        """, arguments: [sweep, epoch])
    }
  }
}
