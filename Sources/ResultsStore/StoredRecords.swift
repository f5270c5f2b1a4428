import Foundation
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

/// A dataset and the split a sweep used.
public struct StoredDataset: Sendable {
  public var name: String
  public var adapter: String
  public var root: String
  public var classNames: [String]
  /// The split spec as JSON.
  public var split: String
  public var seed: UInt64
  /// `(path, subset, class index)` of every labelled image, sorted by path.
  public var assignments: [(path: String, subset: String, label: Int)]

  /// Images per subset (`train`, `validation`, `test`) and class.
  public func counts() -> [String: [Int]] {
    var counts: [String: [Int]] = [:]
    for (_, subset, label) in assignments where classNames.indices.contains(label) {
      counts[subset, default: [Int](repeating: 0, count: classNames.count)][label] += 1
    }
    return counts
  }
}

/// A run as stored.
public struct StoredRun: Sendable {
  public var id: Int64
  public var sweepID: Int64
  public var status: ResultsStore.RunStatus
  public var backbone: String
  public var strategy: String
  /// Every hyperparameter (nil only if the stored JSON is not a run spec).
  public var spec: RunSpec?
  /// The sweep metric on validation at the best epoch, and on the labelled test split.
  public var validationMetric: Double?
  public var testMetric: Double?
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

/// One epoch's curve point as stored.
public struct StoredEpoch: Sendable, Equatable {
  public var epoch: Int
  public var trainLoss: Double
  /// Training accuracy over the epoch's batches.
  public var trainMetric: Double?
  public var validationLoss: Double
  /// The sweep metric on validation.
  public var validationMetric: Double
  public var seconds: Double
}
