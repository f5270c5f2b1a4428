import Foundation

/// Where a sweep's results go: the runner calls it before, during and after every run.
/// `ResultsStore` implements it over SQLite; the runner depends only on this protocol.
public protocol ResultSink: AnyObject {
  /// Inserts the sweep, its dataset and split, and every planned run as queued (keeping
  /// runs already planned), and returns the sweep's id.
  func planSweep(name: String, spec: String, metric: String, dataset: SweepDataset,
                 runs: [(backbone: String, strategy: String, params: String)]) throws -> Int64
  /// Runs still queued, or left running by a process that died, in plan order.
  func unfinishedRunParams(sweep: Int64) throws -> [(id: Int64, params: String)]
  func startRun(_ id: Int64, version: String, machine: String) throws
  func recordEpoch(run: Int64, epoch: Int, trainLoss: Double, trainMetric: Double?, validationLoss: Double,
                   validationMetric: Double, seconds: Double) throws
  /// Marks a run done, pruned or failed with everything it produced, in one write.
  func completeRun(_ id: Int64, _ completion: RunCompletion) throws
  /// The validation metric at `epoch` of the sweep's finished (done) runs.
  func finishedMetrics(sweep: Int64, epoch: Int) throws -> [Double]
}

/// How a run ended.
public enum RunOutcome: String, Sendable { case done, pruned, failed }

/// The dataset a sweep runs on and exactly how it was split, as stored with the sweep so
/// reports can name classes and a run can be reproduced image for image.
public struct SweepDataset: Sendable {
  /// A short name for leaderboards (`leaderboards/<name>.md`).
  public var name: String
  public var adapter: String
  /// The absolute root folder.
  public var root: String
  public var options: [String: String]
  public var classNames: [String]
  /// The split spec as JSON (fractions or counts per class).
  public var split: String
  public var seed: UInt64
  /// `(path, subset, class index)` of every labelled image the split assigned, sorted by path.
  public var assignments: [(path: String, subset: String, label: Int)]

  public init(name: String, adapter: String, root: String, options: [String: String], classNames: [String], split: String,
              seed: UInt64, assignments: [(path: String, subset: String, label: Int)]) {
    (self.name, self.adapter, self.root, self.options, self.classNames) = (name, adapter, root, options, classNames)
    (self.split, self.seed, self.assignments) = (split, seed, assignments)
  }
}

/// One image's predicted class probabilities.
public struct PredictionRecord: Equatable, Sendable {
  /// `validation`, `test` or `unlabelled`.
  public var subset: String
  /// The submission id (`1234` for `test1/1234.jpg`); the path for labelled images.
  public var imageID: String
  /// Relative to the dataset root.
  public var path: String
  /// The true class, for labelled images.
  public var label: Int?
  public var probabilities: [Float]

  public init(subset: String, imageID: String, path: String, label: Int?, probabilities: [Float]) {
    (self.subset, self.imageID, self.path, self.label, self.probabilities) = (subset, imageID, path, label, probabilities)
  }
}

/// Everything a finished run leaves behind.
public struct RunCompletion: Sendable {
  public var outcome: RunOutcome
  /// The sweep metric on validation at the best epoch, and on the labelled test split.
  public var validationMetric: Double?
  public var testMetric: Double?
  /// Every final metric as JSON (test when there is a test split, else validation).
  public var metrics: String?
  /// Confusion matrices as JSON, by subset (`validation`, `test`).
  public var confusion: [String: String] = [:]
  public var predictions: [PredictionRecord] = []
  /// Files by kind (`checkpoint`: the best epoch's weights; `weights`: the pretrained file).
  public var artifacts: [String: String] = [:]
  public var error: String?

  public init(outcome: RunOutcome, validationMetric: Double? = nil, testMetric: Double? = nil, metrics: String? = nil,
              confusion: [String: String] = [:], predictions: [PredictionRecord] = [], artifacts: [String: String] = [:],
              error: String? = nil) {
    (self.outcome, self.validationMetric, self.testMetric, self.metrics) = (outcome, validationMetric, testMetric, metrics)
    (self.confusion, self.predictions, self.artifacts, self.error) = (confusion, predictions, artifacts, error)
  }

  /// A failed run and its reason.
  public static func failed(_ reason: String) -> RunCompletion { RunCompletion(outcome: .failed, error: reason) }
}
