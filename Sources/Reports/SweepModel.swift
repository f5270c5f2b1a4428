import Datasets
import Foundation
import ResultsStore
import Sweeps
import Training

/// What a sweep offers to rank, ensemble and submit: one run, or under cross-validation one
/// configuration's fold runs together (k models trained on k−1 folds each).
///
/// A cross-validated model is chosen on its out-of-fold (OOF) predictions — each fold run's
/// predictions of the fold it held out, so every image of the pool is predicted exactly once,
/// by the one model that did not train on it — and its CV score is the metric over all of
/// them. Its test and unlabelled predictions are the mean of its fold models', per image.
/// It is named by its first fold's run id, and any of its runs' ids finds it.
public struct SweepModel: Sendable {
  /// The run, or the fold runs in fold order.
  public var runs: [StoredRun]
  /// The predictions the model is chosen on, sorted by image id: validation, or out of fold.
  public var selectionPredictions: [PredictionRecord]
  /// The metric on ``selectionPredictions`` (the CV score under cross-validation).
  public var score: Double

  /// The id that names the model: its run's, or its first fold's.
  public var id: Int64 { runs[0].id }
  /// True for a cross-validated configuration.
  public var isCrossValidated: Bool { runs[0].spec?.fold != nil }
  /// Every hyperparameter (the fold left out).
  public var spec: RunSpec? { runs[0].spec?.configuration }

  /// `3`, or `3–7 (5 folds)`: the model's runs, as a leaderboard's run column shows them.
  public var runIDs: String {
    isCrossValidated ? "\(runs.map(\.id).min()!)–\(runs.map(\.id).max()!) (\(runs.count) folds)" : String(id)
  }

  /// `run 3`, or `runs 3–7 (5 folds)`.
  public var name: String { (isCrossValidated ? "runs " : "run ") + runIDs }

  /// Wall-clock seconds of its runs together (nil while any run lacks a time).
  public var seconds: Double? {
    let times = runs.compactMap(\.seconds)
    return times.count == runs.count ? times.reduce(0, +) : nil
  }

  /// Each fold run's metric on the fold it held out, in fold order (empty for a single run).
  public var foldScores: [Double] = []

  /// The mean and standard deviation of the fold scores (``Training/foldSpread(_:)``); nil
  /// for a single run.
  public var foldSpread: (mean: Double, std: Double)? {
    Training.foldSpread(foldScores)
  }

  /// The model's predictions of `subset` (test or unlabelled), sorted by image id: its run's,
  /// or the mean of its fold runs'.
  ///
  /// - Throws: ``ReportError`` when fold runs predicted different images.
  public func predictions(_ subset: Subset, in store: ResultsStore) throws -> [PredictionRecord] {
    let perRun = try runs.map { try store.predictions(run: $0.id, subset: subset) }
    guard perRun.count > 1 else { return perRun[0] }
    for (run, records) in zip(runs, perRun) where records.map(\.imageID) != perRun[0].map(\.imageID) {
      throw ReportError("fold run \(run.id) predicted other \(subset.rawValue) images than fold run \(runs[0].id)")
    }
    let mean = Ensemble.weightedMean(perRun.map { $0.map { ($0.imageID, $0.probabilities) } }, weights: perRun.map { _ in 1 })
    return zip(perRun[0], mean).map { record, row in
      var averaged = record
      averaged.probabilities = row.probabilities
      return averaged
    }
  }

  // MARK: - Finding models

  /// The finished models of `sweep`: its finished runs without a fold, and every
  /// configuration whose fold runs have all finished; best first by `metric`, ties by id.
  public static func ranked(sweep: Int64, in store: ResultsStore, metric: MetricName) throws -> [SweepModel] {
    let runs = try store.runs(sweep: sweep)
    let folds = try store.dataset(ofSweep: sweep)?.crossValidation?.folds
    let storedMetric = try store.sweep(id: sweep)?.metric == metric
    var models: [SweepModel] = []
    for group in configurations(runs) {
      if let model = try model(group, folds: folds, store: store, metric: metric, storedMetric: storedMetric) { models.append(model) }
    }
    return models.sorted { a, b in a.score == b.score ? a.id < b.id : metric.isBetter(a.score, than: b.score) }
  }

  /// The model that run `id` belongs to.
  ///
  /// - Throws: ``ReportError`` when there is no such run, it is not finished, or its
  ///   configuration has folds still to finish.
  public static func containing(run id: Int64, in store: ResultsStore, metric: MetricName? = nil) throws -> SweepModel {
    guard let run = try store.run(id: id) else { throw ReportError("no run with id \(id) in the database") }
    guard run.status.isFinished else { throw ReportError("run \(id) is \(run.status.rawValue), not finished") }
    let sweepMetric = try store.sweep(id: run.sweepID)?.metric ?? .accuracy
    let group = configurations(try store.runs(sweep: run.sweepID)).first { $0.contains { $0.id == id } }!
    let folds = try store.dataset(ofSweep: run.sweepID)?.crossValidation?.folds
    guard let model = try model(group, folds: folds, store: store, metric: metric ?? sweepMetric, storedMetric: (metric ?? sweepMetric) == sweepMetric)
    else {
      let finished = group.filter(\.status.isFinished).count
      throw ReportError("run \(id) is fold \((run.spec?.fold ?? 0) + 1) of a cross-validated configuration with \(finished) of "
        + "\(folds ?? group.count) folds finished; finish the sweep first (`podium sweep run` resumes it)")
    }
    return model
  }

  /// Runs grouped by configuration (their parameters without the fold), in plan order; a
  /// run without a fold is a group of its own.
  static func configurations(_ runs: [StoredRun]) -> [[StoredRun]] {
    var groups: [[StoredRun]] = [], index: [String: Int] = [:]
    for run in runs {
      guard run.spec?.fold != nil, let key = try? run.spec?.configuration.canonicalJSON() else {
        groups.append([run])
        continue
      }
      if let existing = index[key] { groups[existing].append(run) } else {
        index[key] = groups.count
        groups.append([run])
      }
    }
    return groups.map { $0.sorted { ($0.spec?.fold ?? 0) < ($1.spec?.fold ?? 0) } }
  }

  /// The finished model of one group, or nil when a run (or fold) is unfinished or has no
  /// score. A run stored without predictions is scored by its stored validation metric when
  /// that is `metric` (`storedMetric`).
  private static func model(_ group: [StoredRun], folds: Int?, store: ResultsStore, metric: MetricName, storedMetric: Bool) throws
    -> SweepModel?
  {
    guard group.allSatisfy(\.status.isFinished) else { return nil }
    if group.count == 1, group[0].spec?.fold == nil {
      let predictions = try store.predictions(run: group[0].id, subset: .validation)
      guard let score = Leaderboard.value(predictions, metric) ?? (storedMetric ? group[0].validationMetric : nil), score.isFinite else { return nil }
      return SweepModel(runs: group, selectionPredictions: predictions, score: score)
    }
    guard let folds, group.map({ $0.spec?.fold ?? -1 }) == Array(0..<folds) else { return nil }
    var outOfFold: [PredictionRecord] = [], seen: Set<String> = [], foldScores: [Double] = []
    for run in group {
      let predictions = try store.predictions(run: run.id, subset: .validation)
      foldScores.append(Leaderboard.value(predictions, metric) ?? .nan)
      for record in predictions {
        guard seen.insert(record.imageID).inserted else {
          throw ReportError("image \(record.imageID) was predicted out of fold twice (again by fold run \(run.id)); the folds overlap")
        }
        outOfFold.append(record)
      }
    }
    outOfFold.sort { $0.imageID < $1.imageID }
    guard let score = Leaderboard.value(outOfFold, metric) else { return nil }
    return SweepModel(runs: group, selectionPredictions: outOfFold, score: score, foldScores: foldScores)
  }
}
