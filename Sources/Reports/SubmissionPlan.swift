import Datasets
import Foundation
import ResultsStore

/// Which runs a submission comes from: one run, or the mean of a sweep's top runs by
/// validation metric. Under cross-validation a run stands for its configuration, whose
/// predictions are the mean of its fold models (``SweepModel``).
public enum SubmissionSource: Equatable, Sendable {
  case run(Int64)
  /// The top `count` finished models of `sweep` (nil: the most recent sweep): runs by
  /// validation metric, cross-validated configurations by CV score.
  case ensemble(count: Int, sweep: Int64?)
  /// Chosen models (by ``SweepModel/id``) with weights (an ``EnsembleSelection``).
  case weighted([Int64: Double])
}

/// A submission made from stored predictions: the runs chosen, the format the competition
/// takes, and the rows — what `podium submit` and `podium demo` write.
public struct SubmissionPlan {
  public var runs: [Int64]
  /// Each run's name in the summary: `run 3`, or `runs 3–7 (5 folds)` for a cross-validated configuration.
  var names: [String]
  /// Each run's weight in the average (equal unless the source gave weights).
  public var weights: [Double]
  public var format: SubmissionFormat
  public var submission: Submission

  /// Chooses the runs, averages their probabilities for the unlabelled images, and lays
  /// them out in `format` (`auto`: the competition's own, by the dataset's adapter), or
  /// like `sample` (its header and row order; `auto`: as its values say).
  ///
  /// - Throws: ``ReportError`` naming the run or sweep that cannot be submitted.
  public init(_ source: SubmissionSource, store: ResultsStore, format: SubmissionFormat, like sample: SampleSubmission? = nil,
              top: Int? = nil) throws {
    let sweep: Int64
    switch source {
    case .run(let id):
      let model = try SweepModel.containing(run: id, in: store)
      (runs, sweep, names) = ([model.id], model.runs[0].sweepID, [model.name])
    case .ensemble(let count, let chosen):
      sweep = try chosen ?? store.latestSweepID()
      guard let stored = try store.sweep(id: sweep) else { throw ReportError("no sweep with id \(sweep) in the database") }
      let models = try SweepModel.ranked(sweep: sweep, in: store, metric: stored.metric).prefix(count)
      (runs, names) = (models.map(\.id), models.map(\.name))
      guard !runs.isEmpty else { throw ReportError("sweep \(stored.name) has no finished run to submit") }
    case .weighted(let chosen):
      runs = chosen.keys.sorted()
      guard let first = runs.first, let stored = try store.run(id: first) else { throw ReportError("the ensemble has no run in the database") }
      sweep = stored.sweepID
      names = try runs.map { try store.run(id: $0)?.spec?.fold != nil ? SweepModel.containing(run: $0, in: store).name : "run \($0)" }
    }
    if case .weighted(let chosen) = source { weights = runs.map { chosen[$0]! } } else { weights = runs.map { _ in 1 } }
    guard let dataset = try store.dataset(ofSweep: sweep) else { throw ReportError("sweep \(sweep) was stored without its dataset") }
    let predictions = try Ensemble.weightedMean(of: Array(zip(runs, weights)), in: store, subset: .unlabelled)
    if let sample {
      self.format = format != .auto ? format : top != nil ? .labels : try sample.format(classNames: dataset.classNames)
      submission = try Submission(like: sample, predictions: predictions, classNames: dataset.classNames, format: self.format, top: top)
      return
    }
    self.format = format != .auto ? format : top != nil ? .labels : SubmissionFormat.competitionDefault(adapter: dataset.adapter)
    submission = try Submission(predictions: predictions, classNames: dataset.classNames, format: self.format, top: top)
  }

  /// `run 3, format labels`, `mean of run 2, run 5, format probability`, or `runs 3–7 (5
  /// folds), format labels` (the mean of a configuration's fold models).
  public var summary: String {
    let weighted = Set(weights).count > 1
    let source = runs.count == 1 ? names[0]
      : weighted ? "weighted mean of \(zip(names, weights).map { String(format: "%@ ×%.2f", $0, $1) }.joined(separator: ", "))"
      : "mean of \(names.joined(separator: ", "))"
    return "\(source), format \(format.rawValue)"
  }
}
