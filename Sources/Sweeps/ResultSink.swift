import Datasets
import Engine
import Foundation
import Training

/// Where a sweep's results go: the runner calls it before, during and after every run.
/// `ResultsStore` implements it over SQLite; the runner depends only on this protocol, and
/// speaks to it in typed records (the store turns them into text at the SQL boundary).
public protocol ResultSink: AnyObject {
  /// Inserts the sweep, its dataset and split, and every planned run as queued (keeping
  /// runs already planned), and returns the sweep's id.
  func planSweep(name: String, spec: String, metric: MetricName, dataset: DatasetRecord, runs: [RunSpec]) throws -> Int64
  /// Claims the next run of the sweep that needs work, in plan order, for `worker`: a queued
  /// run, or a running one whose worker is gone (its lease ran out, or it was a process on
  /// this host that no longer exists). Atomic: of any number of workers asking at once,
  /// exactly one gets each run. Every claim starts a new attempt; a run whose workers were
  /// lost `policy.maxAttempts` times is marked failed instead. Nil when nothing is left.
  func claimRun(sweep: Int64, worker: WorkerIdentity, policy: LeasePolicy) throws -> RunClaim?
  /// Claims the sweep's run with parameters `spec` whatever its lease says, for a scheduler
  /// task that alone runs it (a requeued Slurm task takes over from its own earlier
  /// attempt); nil when the run is finished, or out of attempts (then marked failed).
  func claimTask(sweep: Int64, spec: RunSpec, worker: WorkerIdentity, policy: LeasePolicy) throws -> RunClaim?
  /// Extends the claim's lease; false when the run is no longer the worker's.
  func renewLease(_ claim: RunClaim, policy: LeasePolicy) throws -> Bool
  /// Records one finished epoch (replacing the same epoch of an earlier attempt).
  ///
  /// - Throws: ``LeaseLostError`` when the claim no longer holds the run.
  func recordEpoch(_ claim: RunClaim, _ epoch: EpochRecord) throws
  /// Marks the run done, pruned or failed with everything it produced, and ends the
  /// attempt, in one write.
  ///
  /// - Throws: ``LeaseLostError`` when the claim no longer holds the run (nothing written).
  func completeRun(_ claim: RunClaim, _ completion: RunCompletion) throws
  /// The validation metric at `epoch` of the sweep's finished (done) runs.
  func finishedMetrics(sweep: Int64, epoch: Int) throws -> [Double]
}

/// Where a run stands.
public enum RunStatus: String, CaseIterable, Sendable {
  case queued, running, done, failed, pruned

  /// Done or pruned: the run ended with a model and its metrics (a pruned run stopped
  /// early by the sweep's rule, but what it trained is scored like the rest).
  public var isFinished: Bool { self == .done || self == .pruned }

  /// Queued, or running: the run still needs work.
  public var isOpen: Bool { self == .queued || self == .running }

  /// The order in which summaries list the statuses.
  public static let summaryOrder: [RunStatus] = [.done, .pruned, .failed, .running, .queued]
}

/// The files a run leaves behind, by what they are.
public enum ArtifactKind: String, CaseIterable, Sendable {
  /// The best epoch's weights.
  case checkpoint
  /// The pretrained weights the run started from.
  case weights
  /// The learning-rate finder's pass (`lr: find`), as JSON.
  case learningRateFinder = "lr_finder"
}

/// The dataset a sweep runs on and exactly how it was split, as stored with the sweep so
/// reports can name classes and a run can be reproduced image for image.
public struct DatasetRecord: Sendable {
  /// A short name for leaderboards (`leaderboards/<name>.md`).
  public var name: String
  public var adapter: String
  /// The absolute root folder.
  public var root: String
  public var options: [String: String]
  public var classNames: [String]
  /// The split spec as JSON (fractions or counts per class), as it was stored; with
  /// cross-validation `{"cv": …, "split": …}` (``SplitDescription``).
  public var split: String
  public var seed: UInt64
  /// Where the split put every labelled image (with its fold under cross-validation), sorted by path.
  public var assignments: [Assignment]

  public init(name: String, adapter: String, root: String, options: [String: String], classNames: [String], split: String,
              seed: UInt64, assignments: [Assignment]) {
    (self.name, self.adapter, self.root, self.options, self.classNames) = (name, adapter, root, options, classNames)
    (self.split, self.seed, self.assignments) = (split, seed, assignments)
  }

  /// Images per subset and class.
  public func counts() -> [Subset: [Int]] {
    var counts: [Subset: [Int]] = [:]
    for item in assignments where classNames.indices.contains(item.label) {
      counts[item.subset, default: [Int](repeating: 0, count: classNames.count)][item.label] += 1
    }
    return counts
  }

  /// The sweep's cross-validation, or nil when its runs train on one split.
  public var crossValidation: CrossValidation? {
    SplitDescription(json: split)?.crossValidation
  }
}

/// The split as stored in `splits.spec`: the spec's JSON alone (as every sweep without
/// cross-validation stores it), or with cross-validation `{"cv": {...}, "split": {...}}`.
public struct SplitDescription: Codable, Equatable, Sendable {
  public var split: SplitSpec
  public var crossValidation: CrossValidation?

  enum CodingKeys: String, CodingKey {
    case split, crossValidation = "cv"
  }

  public init(split: SplitSpec, crossValidation: CrossValidation?) {
    (self.split, self.crossValidation) = (split, crossValidation)
  }

  /// Parses either stored form; nil when `json` is neither.
  public init?(json: String) {
    let data = Data(json.utf8)
    if let described = try? JSONDecoder().decode(Self.self, from: data) {
      self = described
    } else if let spec = try? JSONDecoder().decode(SplitSpec.self, from: data) {
      self.init(split: spec, crossValidation: nil)
    } else {
      return nil
    }
  }

  /// The stored text, with sorted keys: the spec's JSON alone without cross-validation (the
  /// form sweeps stored before it existed), else both.
  public func json() throws -> String {
    crossValidation == nil ? try CanonicalJSON.string(split) : try CanonicalJSON.string(self)
  }
}

/// One finished epoch of a run's curve.
public struct EpochRecord: Sendable, Equatable {
  public var epoch: Int
  public var trainLoss: Double
  /// Training accuracy over the epoch's batches.
  public var trainMetric: Double?
  public var validationLoss: Double
  /// The sweep metric on validation.
  public var validationMetric: Double
  public var seconds: Double

  public init(epoch: Int, trainLoss: Double, trainMetric: Double?, validationLoss: Double, validationMetric: Double, seconds: Double) {
    (self.epoch, self.trainLoss, self.trainMetric, self.validationLoss) = (epoch, trainLoss, trainMetric, validationLoss)
    (self.validationMetric, self.seconds) = (validationMetric, seconds)
  }
}

/// One image's predicted class probabilities.
public struct PredictionRecord: Equatable, Sendable {
  public var subset: Subset
  /// The submission id (`1234` for `test1/1234.jpg`); the path for labelled images.
  public var imageID: String
  /// Relative to the dataset root.
  public var path: String
  /// The true class, for labelled images.
  public var label: Int?
  public var probabilities: [Float]

  public init(subset: Subset, imageID: String, path: String, label: Int?, probabilities: [Float]) {
    (self.subset, self.imageID, self.path, self.label, self.probabilities) = (subset, imageID, path, label, probabilities)
  }
}

/// Everything a finished run leaves behind.
public struct RunCompletion: Sendable {
  /// `done`, `pruned` or `failed`.
  public var outcome: RunStatus
  /// The sweep metric on validation at the best epoch, and on the labelled test split (with
  /// test-time augmentation when the run uses it).
  public var validationMetric: Double?
  public var testMetric: Double?
  /// With test-time augmentation, the same two without it (what TTA bought is the difference).
  public var plainValidationMetric: Double?
  public var plainTestMetric: Double?
  /// With weight averaging, the validation metric of the trained weights' own best epoch
  /// (what averaging bought is the difference from the plain validation metric).
  public var unaveragedValidationMetric: Double?
  /// Every final metric (test when there is a test split, else validation).
  public var metrics: ClassificationMetrics?
  /// Confusion matrices (`[true][predicted]`) by subset.
  public var confusion: [Subset: [[Int]]] = [:]
  public var predictions: [PredictionRecord] = []
  public var artifacts: [ArtifactKind: String] = [:]
  public var error: String?

  public init(outcome: RunStatus, validationMetric: Double? = nil, testMetric: Double? = nil, metrics: ClassificationMetrics? = nil,
              confusion: [Subset: [[Int]]] = [:], predictions: [PredictionRecord] = [], artifacts: [ArtifactKind: String] = [:],
              error: String? = nil) {
    (self.outcome, self.validationMetric, self.testMetric, self.metrics) = (outcome, validationMetric, testMetric, metrics)
    (self.confusion, self.predictions, self.artifacts, self.error) = (confusion, predictions, artifacts, error)
  }

  /// A failed run and its reason.
  public static func failed(_ reason: String) -> RunCompletion { RunCompletion(outcome: .failed, error: reason) }
}
