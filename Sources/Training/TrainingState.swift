import Foundation

/// What a checkpoint remembers besides the weights.
struct TrainingState: Codable {
  var history: [EpochSummary] = []
  var bestEpoch = -1
  var bestMetric = Double.nan

  mutating func record(_ summary: EpochSummary, metric: MetricName) {
    history.append(summary)
    let value = summary.validation.value(metric)
    if bestEpoch < 0 || metric.isBetter(value, than: bestMetric) { (bestEpoch, bestMetric) = (summary.epoch, value) }
  }
}

/// The running mean of the loss and fastai's smoothed loss (β = 0.98, debiased).
struct LossMeter {
  private var total = 0.0, count = 0, average = 0.0, steps = 0
  private let beta = 0.98

  mutating func add(_ loss: Float, count n: Int) {
    total += Double(loss) * Double(n)
    count += n
    steps += 1
    average = beta * average + (1 - beta) * Double(loss)
  }

  var mean: Double { count == 0 ? 0 : total / Double(count) }
  var smoothed: Float { Float(average / (1 - pow(beta, Double(steps)))) }
}
