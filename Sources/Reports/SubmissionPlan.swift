import Datasets
import Foundation
import ResultsStore

/// Which runs a submission comes from: one run, or the mean of a sweep's top runs by
/// validation metric.
public enum SubmissionSource: Equatable, Sendable {
  case run(Int64)
  /// The top `count` finished runs of `sweep` (nil: the most recent sweep).
  case ensemble(count: Int, sweep: Int64?)
  /// Chosen runs with weights (an ``EnsembleSelection``).
  case weighted([Int64: Double])
}

/// A submission made from stored predictions: the runs chosen, the format the competition
/// takes, and the rows — what `podium submit` and `podium demo` write.
public struct SubmissionPlan {
  public var runs: [Int64]
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
      guard let stored = try store.run(id: id) else { throw ReportError("no run with id \(id) in the database") }
      guard stored.status.isFinished else { throw ReportError("run \(id) is \(stored.status.rawValue), not finished") }
      (runs, sweep) = ([id], stored.sweepID)
    case .ensemble(let count, let chosen):
      sweep = try chosen ?? store.latestSweepID()
      let results = try SweepResults.load(from: store, sweep: sweep)
      runs = results.ranked.prefix(count).map(\.id)
      guard !runs.isEmpty else { throw ReportError("sweep \(results.sweep.name) has no finished run to submit") }
    case .weighted(let chosen):
      runs = chosen.keys.sorted()
      guard let first = runs.first, let stored = try store.run(id: first) else { throw ReportError("the ensemble has no run in the database") }
      sweep = stored.sweepID
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

  /// `run 3, format labels` or `mean of runs 2, 5, 7, format probability`.
  public var summary: String {
    let weighted = Set(weights).count > 1
    let source = runs.count == 1 ? "run \(runs[0])"
      : weighted ? "weighted mean of runs \(zip(runs, weights).map { String(format: "%lld×%.2f", $0, $1) }.joined(separator: ", "))"
      : "mean of runs \(runs.map(String.init).joined(separator: ", "))"
    return "\(source), format \(format.rawValue)"
  }
}
