import Datasets
import Foundation
import ResultsStore
import Sweeps
import Training

/// An ensemble of models (runs, or cross-validated configurations) chosen on their
/// validation or out-of-fold predictions (``SweepModel/selectionPredictions``; never on the
/// test split): the plain mean, a weighting by each model's own score, or Caruana et al.'s
/// greedy ensemble selection with replacement ("Ensemble Selection from Libraries of
/// Models", ICML 2004): starting from nothing, add the model that most improves the averaged
/// prediction's metric, `size` times (a model may be added again, which raises its weight),
/// and keep the best ensemble seen along the way. Its first step picks the best single
/// model, so it never scores worse than that model on the predictions it was chosen on.
public struct EnsembleSelection {
  public enum Method: String, CaseIterable, Sendable {
    /// Every model with the same weight.
    case mean
    /// Each model weighted by its own validation (or CV) metric (by 1/log loss for log loss).
    case weighted
    /// Caruana's greedy selection with replacement.
    case greedy
  }

  /// The chosen models (by ``SweepModel/id``) and their weights (summing to 1), heaviest first.
  public var weights: [(run: Int64, weight: Double)]
  /// The ensemble's metric on the validation (or out-of-fold) predictions it was chosen on.
  public var score: Double
  /// The best single model on the same predictions.
  public var bestSingle: (run: Int64, score: Double)
  public var metric: MetricName
  /// True when the models were chosen on out-of-fold predictions.
  public var onOutOfFold: Bool

  /// Chooses among `models` by `method`.
  ///
  /// - Throws: ``ReportError`` when there is no model, a model has no labelled predictions to
  ///   choose on, or models predicted different images.
  public init(models: [SweepModel], metric: MetricName, method: Method, size: Int = 20) throws {
    guard let first = models.first else { throw ReportError("no finished runs to ensemble") }
    let candidates = models.map { (run: $0.id, rows: $0.selectionPredictions.map { (id: $0.imageID, probabilities: $0.probabilities) }) }
    if let empty = models.first(where: { $0.selectionPredictions.isEmpty }) {
      throw ReportError("\(empty.name) stored no validation predictions to choose on")
    }
    if let odd = models.first(where: { $0.selectionPredictions.map(\.imageID) != first.selectionPredictions.map(\.imageID) }) {
      throw ReportError("\(odd.name) predicted other images than \(first.name): they cannot be ensembled")
    }
    if models.contains(where: \.isCrossValidated) != models.allSatisfy(\.isCrossValidated) {
      throw ReportError("cross-validated configurations and single runs cannot be chosen on the same predictions")
    }
    onOutOfFold = first.isCrossValidated
    let labels = Dictionary(first.selectionPredictions.compactMap { record in record.label.map { (record.imageID, $0) } },
                            uniquingKeysWith: { first, _ in first })
    let scoreOf = { (rows: [(id: String, probabilities: [Float])]) in Self.value(rows, labels: labels, metric: metric) }
    let singles = candidates.map { (run: $0.run, score: scoreOf($0.rows)) }
    bestSingle = singles.sorted { metric.isBetter($0.score, than: $1.score) || ($0.score == $1.score && $0.run < $1.run) }[0]
    self.metric = metric
    let counts: [Int64: Double]
    switch method {
    case .mean: counts = Dictionary(uniqueKeysWithValues: models.map { ($0.id, 1) })
    case .weighted: counts = Dictionary(uniqueKeysWithValues: singles.map { ($0.run, metric == .logLoss ? 1 / max($0.score, 1e-12) : max($0.score, 0)) })
    case .greedy: counts = Self.greedy(candidates, size: size, metric: metric, score: scoreOf)
    }
    let total = counts.values.reduce(0, +)
    weights = counts.filter { $0.value > 0 }.map { ($0.key, $0.value / total) }.sorted { ($0.weight, $1.run) > ($1.weight, $0.run) }
    score = scoreOf(Self.blend(candidates, weights: Dictionary(uniqueKeysWithValues: weights.map { ($0.run, $0.weight) })))
  }

  /// Caruana's hill climb; returns how often each run was added to the best ensemble seen.
  private static func greedy(_ candidates: [(run: Int64, rows: [(id: String, probabilities: [Float])])], size: Int, metric: MetricName,
                             score: ([(id: String, probabilities: [Float])]) -> Double) -> [Int64: Double] {
    var counts: [Int64: Double] = [:], best: (counts: [Int64: Double], score: Double)?
    for _ in 0..<max(size, 1) {
      let trials = candidates.map { candidate -> (run: Int64, score: Double) in
        var trial = counts
        trial[candidate.run, default: 0] += 1
        return (candidate.run, score(blend(candidates, weights: trial)))
      }
      let step = trials.sorted { metric.isBetter($0.score, than: $1.score) || ($0.score == $1.score && $0.run < $1.run) }[0]
      counts[step.run, default: 0] += 1
      if best == nil || metric.isBetter(step.score, than: best!.score) { best = (counts, step.score) }
    }
    return best!.counts
  }

  /// The weighted mean of the candidates' rows (weights need not sum to 1; unlisted runs weigh 0).
  private static func blend(_ candidates: [(run: Int64, rows: [(id: String, probabilities: [Float])])], weights: [Int64: Double])
    -> [(id: String, probabilities: [Float])]
  {
    let chosen = candidates.filter { (weights[$0.run] ?? 0) > 0 }
    return Ensemble.weightedMean(chosen.map(\.rows), weights: chosen.map { weights[$0.run]! })
  }

  private static func value(_ rows: [(id: String, probabilities: [Float])], labels: [String: Int], metric: MetricName) -> Double {
    let labelled = rows.filter { labels[$0.id] != nil }
    guard let classes = labelled.first?.probabilities.count else { return .nan }
    return ClassificationMetrics(probabilities: labelled.flatMap(\.probabilities), labels: labelled.map { labels[$0.id]! }, classes: classes)
      .value(metric)
  }
}
