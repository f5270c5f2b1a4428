import Datasets
import Foundation

/// What the runs of one configuration on every fold add up to (`podium train --folds`): the
/// out-of-fold predictions — each fold run's predictions of the fold it held out, so every
/// image of the pool is predicted once, by the model that did not train on it — the CV
/// metrics over all of them, and the mean of the fold models on the test split.
public struct CrossValidatedResult: Sendable {
  /// Every fold's run, in fold order.
  public var folds: [RunResult]
  /// The fold runs' validation predictions together, in fold order.
  public var outOfFold: Predictions
  /// Every metric over ``outOfFold``.
  public var metrics: ClassificationMetrics
  /// The mean of the fold models' test probabilities, scored (nil without a test split).
  public var test: Evaluation?

  /// Combines the fold runs.
  ///
  /// - Throws: ``TrainingError`` when no fold ran, or fold runs predicted different test images.
  public init(folds: [RunResult]) throws {
    guard let first = folds.first else { throw TrainingError("no fold has run") }
    self.folds = folds
    let classes = first.validation.predictions.classes
    outOfFold = Predictions(samples: folds.flatMap(\.validation.predictions.samples),
                            probabilities: folds.flatMap(\.validation.predictions.probabilities), classes: classes)
    metrics = ClassificationMetrics(probabilities: outOfFold.probabilities, labels: outOfFold.samples.map { $0.label ?? 0 }, classes: classes)
    guard first.test != nil else { return }
    let tests = folds.compactMap(\.test)
    guard tests.count == folds.count else { throw TrainingError("the fold runs predicted different test images") }
    test = Evaluation(predictions: try Predictions.mean(tests.map(\.predictions), of: "fold runs' test predictions"))
  }

  /// `metric` of each fold's run on the fold it held out.
  public func foldScores(_ metric: MetricName) -> [Double] {
    folds.map { $0.validation.metrics.value(metric) }
  }
}

/// The mean and standard deviation of fold scores (over the folds, NumPy's default
/// `ddof=0`, as `cross_val_score(...).std()` reports it); nil for no scores.
public func foldSpread(_ scores: [Double]) -> (mean: Double, std: Double)? {
  guard !scores.isEmpty else { return nil }
  let mean = scores.reduce(0, +) / Double(scores.count)
  return (mean, (scores.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(scores.count)).squareRoot())
}
