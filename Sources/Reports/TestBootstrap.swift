import Engine
import ResultsStore
import Sweeps
import Training

/// How sure a test score is: percentile bootstrap intervals over the test images (Efron and
/// Tibshirani, "An Introduction to the Bootstrap", 1993), seeded, for one run's metric and for
/// the difference between two runs on the same images (the paired bootstrap: both runs'
/// predictions of each drawn image go into the same resample).
enum TestBootstrap {
  /// Resamples per interval.
  static let resamples = 1000

  /// A metric's value on all images and its 95% interval.
  struct Interval: Equatable {
    var estimate: Double
    var low: Double
    var high: Double

    /// True when the interval leaves out `value`.
    func excludes(_ value: Double) -> Bool { value < low || value > high }
  }

  /// The 95% interval of `metric` on the labelled `records`, nil without any.
  static func interval(_ records: [PredictionRecord], metric: MetricName, seed: UInt64 = 0) -> Interval? {
    let outcomes = Outcomes(records)
    guard outcomes.count > 0 else { return nil }
    return bootstrap(count: outcomes.count, seed: seed, estimate: outcomes.value(metric, over: nil)) { outcomes.value(metric, over: $0) }
  }

  /// The 95% interval of `metric(a) − metric(b)` over the images both runs predicted
  /// (matched by id), with how many there were; nil without any.
  static func difference(_ a: [PredictionRecord], _ b: [PredictionRecord], metric: MetricName, seed: UInt64 = 0)
    -> (interval: Interval, images: Int)?
  {
    let ids = Set(b.map(\.imageID))
    let shared = a.filter { ids.contains($0.imageID) && $0.label != nil }.sorted { $0.imageID < $1.imageID }
    let byID = Dictionary(b.map { ($0.imageID, $0) }, uniquingKeysWith: { first, _ in first })
    let (first, second) = (Outcomes(shared), Outcomes(shared.map { byID[$0.imageID]! }))
    guard first.count > 0, first.count == second.count else { return nil }
    let estimate = first.value(metric, over: nil) - second.value(metric, over: nil)
    let interval = bootstrap(count: first.count, seed: seed, estimate: estimate) { first.value(metric, over: $0) - second.value(metric, over: $0) }
    return (interval, first.count)
  }

  /// The 2.5th and 97.5th percentiles of `statistic` over resamples of `count` indices.
  private static func bootstrap(count: Int, seed: UInt64, estimate: Double, _ statistic: ([Int]) -> Double) -> Interval {
    var rng = SeededGenerator(seed: seed)
    var values = (0..<resamples).map { _ in statistic((0..<count).map { _ in Int(rng.next() % UInt64(count)) }) }
    values.sort()
    return Interval(estimate: estimate, low: values[Int(0.025 * Double(resamples))], high: values[Int(0.975 * Double(resamples)) - 1])
  }
}

/// Each labelled image's true class, predicted class and log-loss term: what any resample's
/// metrics are computed from.
private struct Outcomes {
  var labels: [Int] = [], predicted: [Int] = [], losses: [Double] = []
  var classes = 0
  var count: Int { labels.count }

  init(_ records: [PredictionRecord]) {
    for record in records {
      guard let label = record.label, let top = record.probabilities.indices.max(by: { record.probabilities[$0] < record.probabilities[$1] })
      else { continue }
      classes = max(classes, record.probabilities.count)
      labels.append(label)
      predicted.append(top)
      losses.append(ClassificationMetrics.logLossTerm(scores: record.probabilities, label: label))
    }
  }

  /// `metric` over the images at `indices` (nil: every image once).
  func value(_ metric: MetricName, over indices: [Int]?) -> Double {
    var confusion = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
    var loss = 0.0
    let drawn = indices ?? Array(labels.indices)
    for index in drawn {
      confusion[labels[index]][predicted[index]] += 1
      loss += losses[index]
    }
    return ClassificationMetrics(confusion: confusion, logLoss: loss / Double(max(drawn.count, 1))).value(metric)
  }
}
