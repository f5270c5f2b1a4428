/// Where a sweep's results go: the runner calls it before, during and after every run.
/// `ResultsStore` implements it over SQLite; the runner depends only on this protocol.
public protocol ResultSink: AnyObject {
  /// Inserts the sweep and every planned run as queued (keeping runs already planned) and
  /// returns the sweep's id.
  func planSweep(name: String, spec: String, metric: String, runs: [(backbone: String, strategy: String, params: String)]) throws -> Int64
  /// Runs still queued, or left running by a process that died, in plan order.
  func unfinishedRunParams(sweep: Int64) throws -> [(id: Int64, params: String)]
  func startRun(_ id: Int64, version: String, machine: String) throws
  func recordEpoch(run: Int64, epoch: Int, trainLoss: Double, trainMetric: Double?, validationLoss: Double,
                   validationMetric: Double, seconds: Double) throws
  /// Marks a run done or pruned (with its metrics, the test confusion matrix as JSON and
  /// the probabilities of every unlabelled image) or failed (with the reason).
  func completeRun(_ id: Int64, outcome: RunOutcome, validationMetric: Double?, testMetric: Double?, metrics: String?,
                   confusion: String?, predictions: [(imageID: String, probabilities: String)], error: String?) throws
  /// The validation metric at `epoch` of the sweep's finished (done) runs.
  func finishedMetrics(sweep: Int64, epoch: Int) throws -> [Double]
}

/// How a run ended.
public enum RunOutcome: String, Sendable { case done, pruned, failed }
