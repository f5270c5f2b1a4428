import Foundation
import Sweeps
import Training

/// A sweep as stored.
public struct StoredSweep: Sendable {
  public var id: Int64
  public var name: String
  /// The YAML it was planned from.
  public var spec: String
  public var metric: MetricName
  public var createdAt: Date
}

/// A run as stored.
public struct StoredRun: Sendable {
  public var id: Int64
  public var sweepID: Int64
  public var status: RunStatus
  public var backbone: String
  public var strategy: String
  /// Every hyperparameter (nil only if the stored JSON is not a run spec).
  public var spec: RunSpec?
  /// The sweep metric on validation at the best epoch, and on the labelled test split.
  public var validationMetric: Double?
  public var testMetric: Double?
  /// With test-time augmentation, the two metrics without it.
  public var plainValidationMetric: Double?
  public var plainTestMetric: Double?
  /// With weight averaging, the trained weights' own best validation metric.
  public var unaveragedValidationMetric: Double?
  /// The final metrics (test when there was a test split, else validation).
  public var metrics: ClassificationMetrics?
  public var error: String?
  public var startedAt: Date?
  public var finishedAt: Date?
  public var version: String?
  public var machine: String?

  /// Wall-clock seconds from start to finish.
  public var seconds: Double? {
    guard let startedAt, let finishedAt else { return nil }
    return finishedAt.timeIntervalSince(startedAt)
  }
}

/// One claim of a run by a worker, as stored.
public struct StoredAttempt: Sendable {
  public var run: Int64
  /// 1, 2, ... in the order the claims were made (in this store).
  public var attempt: Int
  public var host: String
  public var processID: Int32
  /// The Slurm array task or Kubernetes index, when a scheduler ran it.
  public var task: SchedulerTask?
  public var startedAt: Date
  /// The last sign of life: a heartbeat, an epoch, or the end.
  public var heartbeatAt: Date
  public var endedAt: Date?
  public var outcome: AttemptOutcome
  public var error: String?

  /// "host, process 123" or "host, slurm job 45 task 3 (restart 1)".
  public var worker: String {
    guard let task else { return "\(host), process \(processID)" }
    let job = task.jobID.map { " job \($0)" } ?? ""
    let restart = (task.restartCount ?? 0) > 0 ? " (restart \(task.restartCount!))" : ""
    return "\(host), \(task.scheduler)\(job) task \(task.taskID ?? "?")\(restart)"
  }
}
