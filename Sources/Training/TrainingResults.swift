import Datasets
import Foundation

/// The outcome of `fit`: every epoch's summary and the best one.
public struct TrainingOutcome: Codable, Equatable, Sendable {
  public var history: [EpochSummary]
  public var bestEpoch: Int
  public var bestMetric: Double
  public var stoppedEarly: Bool
  /// True when ``Trainer/shouldStop`` ended the run.
  public var pruned = false

  /// With weight averaging, the best validation `metric` the trained weights themselves
  /// reached (as the same run without averaging would have chosen its epoch); nil without.
  public func bestWithoutAveraging(_ metric: MetricName) -> Double? {
    guard history.contains(where: { $0.withoutAveraging != nil }) else { return nil }
    return history.map { ($0.withoutAveraging ?? $0.validation).value(metric) }.reduce(nil) { best, value in
      best.map { metric.isBetter(value, than: $0) ? value : $0 } ?? value
    }
  }
}

/// Predicted probabilities for a set of images.
public struct Predictions: Sendable {
  public var samples: [Dataset.Sample]
  /// `samples.count × classes`, row-major.
  public var probabilities: [Float]
  public var classes: Int
}

extension Predictions {
  /// The image-by-image mean of several models' (or views') probabilities for the same images.
  ///
  /// - Throws: ``TrainingError`` naming `what` when they predicted different images.
  public static func mean(_ all: [Predictions], of what: String) throws -> Predictions {
    guard let first = all.first else { throw TrainingError("no \(what) to average") }
    guard all.allSatisfy({ $0.samples == first.samples }) else { throw TrainingError("the \(what) predicted different images") }
    var sum = [Float](repeating: 0, count: first.probabilities.count)
    let scale = 1 / Float(all.count)
    for predictions in all {
      predictions.probabilities.withUnsafeBufferPointer { p in
        for i in 0..<sum.count { sum[i] += scale * p[i] }
      }
    }
    return Predictions(samples: first.samples, probabilities: sum, classes: first.classes)
  }
}

/// A model's predictions on labelled images and the metrics they score.
public struct Evaluation: Sendable {
  public var metrics: ClassificationMetrics
  public var predictions: Predictions

  public init(metrics: ClassificationMetrics, predictions: Predictions) {
    (self.metrics, self.predictions) = (metrics, predictions)
  }

  /// The predictions scored against their images' labels.
  public init(predictions: Predictions) {
    self.init(metrics: ClassificationMetrics(probabilities: predictions.probabilities, labels: predictions.samples.map { $0.label ?? 0 },
                                             classes: predictions.classes), predictions: predictions)
  }
}

/// The results of a finished run: the best epoch's model scored on validation and test,
/// its probabilities for the unlabelled images, and the files it came from.
public struct RunResult: Sendable {
  public var outcome: TrainingOutcome
  /// The best epoch's model on the validation split.
  public var validation: Evaluation
  /// The best epoch's model on the labelled test split (nil without one).
  public var test: Evaluation?
  /// Probabilities for the unlabelled images, for submissions.
  public var unlabelled: Predictions?
  /// The best epoch's weights (nil when the run kept no checkpoints).
  public var checkpoint: URL?
  /// The pretrained weights the run started from (nil for `scratch`).
  public var pretrainedWeights: URL?
  /// The learning-rate finder's pass (`lr: find`), as JSON in the run's folder.
  public var learningRateFinder: URL?
  /// With test-time augmentation, the metrics of the plain view (validation, test), which
  /// ``validation`` and ``test`` improve on or not.
  public var withoutTTA: (validation: ClassificationMetrics, test: ClassificationMetrics?)?
}
