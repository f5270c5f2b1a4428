import Foundation
import ResultsStore
import Training

/// The sentences at the top of a report that answer "which backbone and strategy win, and
/// why": the winner, what each strategy reached and cost, and signs of over-fitting.
enum Findings {
  /// The headline: the best run and its scores.
  static func headline(_ results: SweepResults) -> String {
    let metric = results.sweep.metric.rawValue
    let configurations = SweepConfiguration.group(SweepContender.all(results), metric: results.sweep.metric)
    if SweepConfiguration.repeatsSeeds(configurations) { return headline(configurations, results) }
    if let (model, test) = results.crossValidated.first, let run = model.runs.first {
      var line = "Best by \(model.runs.count)-fold CV: \(run.backbone) · \(run.strategy) (\(model.name)) — CV \(metric) \(format(model.score))"
      if let spread = model.foldSpread { line += " (folds \(Leaderboard.spread(spread)))" }
      if let score = Leaderboard.value(test, results.sweep.metric) { line += ", test \(format(score)) for the mean of its fold models" }
      return line + "."
    }
    guard let best = results.best else { return "No run has finished yet." }
    var line = "Best: \(best.backbone) · \(best.strategy) (run \(best.id)) — validation \(metric) \(format(best.validationMetric))"
    if let test = best.testMetric { line += ", test \(format(test))" }
    return line + "."
  }

  /// The headline of a sweep that repeats settings over seeds: a winner only when it is ahead
  /// of the next configuration by more than their seeds' spread, a tie in words otherwise.
  private static func headline(_ configurations: [SweepConfiguration], _ results: SweepResults) -> String {
    let score = (results.crossValidated.isEmpty ? "validation " : "CV ") + results.sweep.metric.rawValue
    let first = configurations[0]
    let described = "\(first.label) (\(first.members[0].backbone) · \(first.members[0].strategy)) — \(score) \(first.summary)"
    guard configurations.count > 1 else { return "Best configuration: \(described)." }
    let second = configurations[1]
    switch SweepConfiguration.isClearlyAhead(first, of: second, metric: results.sweep.metric) {
    case true?:
      return "Best configuration: \(described), ahead of \(second.label) (\(second.summary)) by more than their seeds' spread."
    case false?:
      return "No clear winner: \(first.label) (\(first.summary)) and \(second.label) (\(second.summary)) are within their seeds' spread "
        + "of each other; more seeds or more validation images would tell them apart."
    case nil:
      return "Best configuration: \(described); \(second.label) ran once (\(second.summary)), too few runs to say whether the lead is more than chance."
    }
  }

  /// Bullet points comparing strategies, timing them, and checking the winner for over-fitting.
  static func points(_ results: SweepResults) -> [String] {
    var points: [String] = []
    let metric = results.sweep.metric
    let configurations = SweepConfiguration.group(SweepContender.all(results), metric: metric)
    let seeded = SweepConfiguration.repeatsSeeds(configurations)
    let contenders = seeded ? configurations.map(\.asContender) : SweepContender.all(results)
    let scoreName = (seeded ? "mean " : "") + (results.crossValidated.isEmpty ? metric.rawValue : "CV \(metric.rawValue)")
    var bestByStrategy: [(strategy: String, best: SweepContender)] = []
    for contender in contenders where !bestByStrategy.contains(where: { $0.strategy == contender.strategy }) {
      bestByStrategy.append((contender.strategy, contender))
    }
    for (strategy, best) in bestByStrategy {
      let times = contenders.filter { $0.strategy == strategy }.compactMap(\.seconds)
      let unit = seeded ? "configurations (all seeds)" : results.crossValidated.isEmpty ? "runs" : "configurations (all folds)"
      let mean = times.isEmpty ? "" : String(format: "; its %@ took %.0f s on average", unit, times.reduce(0, +) / Double(times.count))
      points.append("\(strategy): best \(scoreName) \(format(best.score)) with \(best.backbone) (\(best.name))\(mean).")
    }
    if let winner = bestByStrategy.first, let scratch = bestByStrategy.first(where: { $0.strategy == "scratch" }), winner.strategy != "scratch" {
      let gain = (winner.best.score ?? 0) - (scratch.best.score ?? 0)
      points.append("The pretrained \(winner.strategy) strategy beats training from scratch by \(String(format: "%+.3f", metric.isMaximised ? gain : -gain)) \(metric.rawValue): "
                    + "with this little data the pretrained trunk's features carry most of the accuracy.")
    }
    if results.crossValidated.isEmpty, !seeded, let gap = overfitting(results) { points.append(gap) }
    points += seeded ? comparisons(configurations, metric: metric) : comparisons(contenders, metric: metric)
    let failed = results.runs.filter { $0.status == .failed }.count, pruned = results.runs.filter { $0.status == .pruned }.count
    let open = results.runs.filter(\.status.isOpen).count
    if failed > 0 { points.append("\(failed) run\(failed == 1 ? "" : "s") failed; the reasons are listed under the leaderboard.") }
    if pruned > 0 { points.append("\(pruned) run\(pruned == 1 ? " was" : "s were") pruned below the median of finished runs.") }
    if open > 0 { points.append("\(open) run\(open == 1 ? " is" : "s are") not finished: `podium sweep run` resumes them.") }
    return points
  }

  /// A warning when the best run's training accuracy at its best epoch is far above its
  /// validation accuracy.
  private static func overfitting(_ results: SweepResults) -> String? {
    guard let best = results.best, results.sweep.metric == .accuracy, let epochs = results.epochs[best.id],
      let epoch = epochs.max(by: { $0.validationMetric < $1.validationMetric }), let train = epoch.trainMetric,
      train - epoch.validationMetric > 0.15 else { return nil }
    return "Run \(best.id) fits its training images much better than validation (train accuracy \(format(train)) vs \(format(epoch.validationMetric))): "
      + "more data, stronger augmentation or more frozen layers may help."
  }

  /// For the winner against each of the next three contenders: whether their test scores
  /// differ by more than the test images can tell apart (a paired bootstrap on the same images).
  static func comparisons(_ contenders: [SweepContender], metric: MetricName) -> [String] {
    guard let winner = contenders.first, !winner.test.isEmpty else { return [] }
    return contenders.dropFirst().prefix(3).compactMap { other in
      guard let (interval, images) = TestBootstrap.difference(winner.test, other.test, metric: metric) else { return nil }
      let size = "\(gap(interval.estimate, metric)) of test \(metric.rawValue)"
      let bounds = "95% interval of the difference \(signed(interval.low, metric)) to \(signed(interval.high, metric))"
      guard interval.excludes(0) else {
        return "\(capitalized(winner.name)) and \(other.name) differ by \(size), within what \(images) test images can tell apart (\(bounds))."
      }
      let ahead = metric.isBetter(interval.estimate, than: 0) ? (winner.name, other.name) : (other.name, winner.name)
      return "\(capitalized(ahead.0)) is ahead of \(ahead.1) by \(size), more than \(images) test images leave to chance (\(bounds))."
    }
  }

  /// For the best configuration against each of the next three: whether the difference of
  /// their means is more than their seeds' spread says (``SweepConfiguration/isClearlyAhead(_:of:metric:)``).
  static func comparisons(_ configurations: [SweepConfiguration], metric: MetricName) -> [String] {
    guard let winner = configurations.first, let best = winner.spread?.mean else { return [] }
    return configurations.dropFirst().prefix(3).compactMap { other in
      guard let mean = other.spread?.mean, let clear = SweepConfiguration.isClearlyAhead(winner, of: other, metric: metric) else { return nil }
      let size = "\(gap(best - mean, metric)) of mean \(metric.rawValue)"
      return clear ? "\(winner.label) is ahead of \(other.label) by \(size), more than their seeds' spread leaves to chance."
        : "\(winner.label) and \(other.label) differ by \(size), within their seeds' spread (± \(format(winner.spread?.std)) and ± \(format(other.spread?.std)))."
    }
  }

  private static func capitalized(_ name: String) -> String {
    name.prefix(1).uppercased() + name.dropFirst()
  }

  /// A difference as a Kaggler reads it: points (hundredths) for metrics in [0, 1], the value for log loss.
  private static func gap(_ value: Double, _ metric: MetricName) -> String {
    metric == .logLoss ? String(format: "%.4f", abs(value)) : String(format: "%.1f points", abs(value) * 100)
  }

  private static func signed(_ value: Double, _ metric: MetricName) -> String {
    metric == .logLoss ? String(format: "%+.4f", value) : String(format: "%+.1f", value * 100)
  }

  /// `0.7125–0.8375`: an interval as a leaderboard cell.
  static func range(_ interval: TestBootstrap.Interval) -> String {
    "\(format(interval.low))–\(format(interval.high))"
  }

  static func format(_ value: Double?) -> String {
    guard let value, value.isFinite else { return "–" }
    return String(format: "%.4f", value)
  }
}
