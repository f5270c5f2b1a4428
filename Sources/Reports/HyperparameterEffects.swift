import Foundation
import Training

/// What each hyperparameter that varies in a sweep does to its metric: a chart of the metric
/// against the key's values (a point per run, the mean per value), a parallel-coordinates
/// chart of every configuration, and the share of the metric's variance each key explains.
///
/// The shares are the main effects of a functional ANOVA (Hutter, Hoos and Leyton-Brown,
/// "An Efficient Approach for Assessing Hyperparameter Importance", ICML 2014) computed on
/// the runs themselves rather than on a random-forest surrogate: a key's share is the
/// variance of the metric's mean per value of the key over the metric's total variance
/// (η², the correlation ratio; numeric keys with more than ten values, as random draws
/// give, are cut into five bins of equal count). On a full grid the main effects, their
/// interactions and the spread between seeds add up to the whole variance, so the table
/// also shows what the seeds alone move.
struct HyperparameterEffects {
  /// One run (or cross-validated configuration) with its score.
  struct Point {
    var spec: RunSpec
    var score: Double
  }

  let points: [Point]
  let keys: [Hyperparameter]
  let metric: MetricName
  let scoreName: String

  init(results: SweepResults) {
    metric = results.sweep.metric
    scoreName = (results.crossValidated.isEmpty ? "validation " : "CV ") + metric.rawValue
    points = SweepContender.all(results).compactMap { contender in
      guard let spec = contender.spec, let score = contender.score, score.isFinite else { return nil }
      return Point(spec: spec, score: score)
    }
    keys = SweepConfiguration.varyingKeys(points.map(\.spec))
  }

  // MARK: - Values of a key

  /// The key's value in a run as text (`default` where unset).
  func value(_ key: Hyperparameter, _ spec: RunSpec) -> String {
    key.value(in: spec)?.description ?? "default"
  }

  /// The key's values, numerically sorted when all are numbers, else in first-seen order.
  func values(_ key: Hyperparameter) -> [String] {
    var seen: [String] = []
    for point in points where !seen.contains(value(key, point.spec)) { seen.append(value(key, point.spec)) }
    let numbers = seen.compactMap(Double.init)
    return numbers.count == seen.count ? seen.sorted { Double($0)! < Double($1)! } : seen
  }

  /// True when the key's values are positive numbers spanning a factor of 20 or more, or it
  /// is a rate: plotted on a log axis.
  func isLogarithmic(_ key: Hyperparameter) -> Bool {
    let numbers = values(key).compactMap(Double.init)
    guard numbers.count == values(key).count, let low = numbers.min(), let high = numbers.max(), low > 0 else { return false }
    return [.lr, .weightDecay].contains(key) || high / low >= 20
  }

  // MARK: - Importance

  /// The group of each point for `key`: its value, or for a numeric key with more than ten
  /// values (random draws), its fifth of the sorted values.
  private func groups(_ key: Hyperparameter) -> [Int] {
    let ordered = values(key)
    let position = Dictionary(uniqueKeysWithValues: ordered.enumerated().map { ($1, $0) })
    let bins = ordered.count > 10 && ordered.allSatisfy { Double($0) != nil } ? 5 : ordered.count
    return points.map { point in position[value(key, point.spec)]! * bins / ordered.count }
  }

  /// The share of the total variance of the scores explained by grouping them as `groups`.
  private func share(_ groups: [Int]) -> Double {
    let scores = points.map(\.score)
    let mean = scores.reduce(0, +) / Double(max(scores.count, 1))
    let total = scores.map { ($0 - mean) * ($0 - mean) }.reduce(0, +)
    guard total > 0 else { return 0 }
    var sums: [Int: (total: Double, count: Double)] = [:]
    for (group, score) in zip(groups, scores) {
      sums[group, default: (0, 0)].total += score
      sums[group, default: (0, 0)].count += 1
    }
    let between = sums.values.map { $0.count * ($0.total / $0.count - mean) * ($0.total / $0.count - mean) }.reduce(0, +)
    return between / total
  }

  /// Each varying key's share of the variance, largest first, then the rest: what the keys
  /// do together beyond their main effects, and the spread between runs of one configuration.
  func importance() -> ReportTable {
    var rows = keys.map { key in (key.rawValue, values(key).count, share(groups(key))) }.sorted { $0.2 > $1.2 }
    let configurationKeys = points.map { point in keys.map { value($0, point.spec) }.joined(separator: "\u{1F}") }
    let index = Dictionary(configurationKeys.map { ($0, 0) }, uniquingKeysWith: { a, _ in a }).keys.sorted()
    let position = Dictionary(uniqueKeysWithValues: index.enumerated().map { ($1, $0) })
    let between = share(configurationKeys.map { position[$0]! })
    let mains = rows.map(\.2).reduce(0, +)
    rows.append(("interactions (what keys do together)", index.count, max(between - mains, 0)))
    rows.append(("seed and noise (within configurations)", points.count, points.isEmpty ? 0 : 1 - between))
    return ReportTable(name: "importance", header: ["hyperparameter", "values", "share of variance"], rows: rows.map { name, count, share in
      [.init(name), .integer(count), .init(String(format: "%.1f%%", share * 100), sortKey: share)]
    })
  }

  // MARK: - Charts

  /// The metric against `key`'s values: a point per run, the mean per value joined by a line.
  func chart(_ key: Hyperparameter) -> String {
    let ordered = values(key), logarithmic = isLogarithmic(key)
    let numeric = ordered.allSatisfy { Double($0) != nil }
    let frame = SVGFrame(width: 420, height: 260)
    let scores = points.map(\.score)
    guard let low = scores.min(), let high = scores.max() else { return "" }
    let (range, ticks) = niceTicks(low, high)
    let position = { (text: String) -> Double in
      guard numeric, ordered.count > 1 else { return Double(ordered.firstIndex(of: text)!) }
      let t = { (x: Double) in logarithmic ? log10(x) : x }
      return t(Double(text)!)
    }
    let xs = ordered.map(position)
    let xRange = (xs.min()! - 0.1 * max(xs.max()! - xs.min()!, 1))...(xs.max()! + 0.1 * max(xs.max()! - xs.min()!, 1))
    let title = "\(scoreName) against \(key.rawValue)"
    var svg = frame.open(title: title) + frame.yAxis(range, ticks: ticks, label: scoreName, format: { String(format: "%g", $0) })
    svg += frame.xTicks(zip(ordered, xs).filter { ordered.count <= 12 || $0.0 == ordered.first || $0.0 == ordered.last }
      .map { (frame.x($0.1, xRange), $0.0) })
    for point in points {
      svg += "<circle cx=\"\(f(frame.x(position(value(key, point.spec)), xRange)))\" cy=\"\(f(frame.y(point.score, range)))\" r=\"2.5\" "
        + "fill=\"\(Palette.colour(0))\" fill-opacity=\"0.45\"/>"
    }
    let means = ordered.map { text -> (x: Double, y: Double) in
      let group = points.filter { value(key, $0.spec) == text }.map(\.score)
      return (position(text), group.reduce(0, +) / Double(group.count))
    }
    let line = means.map { "\(f(frame.x($0.x, xRange))),\(f(frame.y($0.y, range)))" }.joined(separator: " ")
    svg += "<polyline points=\"\(line)\" fill=\"none\" stroke=\"\(Palette.colour(1))\" stroke-width=\"2\"><title>mean per value</title></polyline>"
    for (text, mean) in zip(ordered, means) {
      svg += "<circle cx=\"\(f(frame.x(mean.x, xRange)))\" cy=\"\(f(frame.y(mean.y, range)))\" r=\"4\" fill=\"\(Palette.colour(1))\">"
        + "<title>\(HTML.escape(String(format: "%@ %@: mean %.4f", key.rawValue, text, mean.y)))</title></circle>"
    }
    let axis = key.rawValue + (logarithmic ? " (log scale)" : "")
    return svg + frame.xAxis(label: axis) + "</svg>"
  }

  /// Every configuration as a line across one axis per varying key and a last axis for the
  /// metric, coloured from light (worst) to dark (best).
  func parallelCoordinates(_ configurations: [SweepConfiguration]) -> String {
    let rows = configurations.compactMap { configuration -> (spec: RunSpec, score: Double, label: String)? in
      guard let spec = configuration.members[0].spec, let mean = configuration.spread?.mean else { return nil }
      return (spec, mean, configuration.label)
    }
    guard !keys.isEmpty, let low = rows.map(\.score).min(), let high = rows.map(\.score).max() else { return "" }
    let frame = SVGFrame(width: 640, height: 300, left: 40, right: 90, top: 24, bottom: 40)
    let axes = keys.count + 1
    let step = frame.plotWidth / Double(max(axes - 1, 1))
    let axisX = { (index: Int) in frame.left + step * Double(index) }
    let (range, _) = niceTicks(low, high)
    func height(_ key: Hyperparameter, _ spec: RunSpec) -> Double {
      let ordered = values(key)
      let index = Double(ordered.firstIndex(of: value(key, spec))!)
      return frame.top + frame.plotHeight * (ordered.count == 1 ? 0.5 : 1 - index / Double(ordered.count - 1))
    }
    var svg = frame.open(title: "Configurations across the varying hyperparameters, coloured by \(scoreName)")
    for (index, key) in keys.enumerated() {
      svg += "<line x1=\"\(f(axisX(index)))\" x2=\"\(f(axisX(index)))\" y1=\"\(f(frame.top))\" y2=\"\(f(frame.top + frame.plotHeight))\" class=\"axis\"/>"
      svg += "<text x=\"\(f(axisX(index)))\" y=\"\(f(frame.height - 12))\" text-anchor=\"middle\" class=\"label\">\(HTML.escape(key.rawValue))</text>"
      let ordered = values(key)
      for text in ordered where ordered.count <= 12 || text == ordered.first || text == ordered.last {
        let y = frame.top + frame.plotHeight * (ordered.count == 1 ? 0.5 : 1 - Double(ordered.firstIndex(of: text)!) / Double(ordered.count - 1))
        svg += "<text x=\"\(f(axisX(index) + 4))\" y=\"\(f(y - 3))\" class=\"tick\">\(HTML.escape(text))</text>"
      }
    }
    let last = axisX(keys.count)
    svg += "<line x1=\"\(f(last))\" x2=\"\(f(last))\" y1=\"\(f(frame.top))\" y2=\"\(f(frame.top + frame.plotHeight))\" class=\"axis\"/>"
    svg += "<text x=\"\(f(last))\" y=\"\(f(frame.height - 12))\" text-anchor=\"middle\" class=\"label\">\(HTML.escape(scoreName))</text>"
    for tick in [range.lowerBound, range.upperBound] {
      svg += "<text x=\"\(f(last + 4))\" y=\"\(f(frame.y(tick, range) + 4))\" class=\"tick\">\(String(format: "%g", tick))</text>"
    }
    for row in rows.sorted(by: { metric.isBetter($1.score, than: $0.score) }) {
      let goodness = high == low ? 1 : (metric.isMaximised ? (row.score - low) : (high - row.score)) / (high - low)
      let points = keys.enumerated().map { "\(f(axisX($0.offset))),\(f(height($0.element, row.spec)))" } + ["\(f(last)),\(f(frame.y(row.score, range)))"]
      svg += "<polyline points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"\(shade(goodness))\" stroke-width=\"1.5\">"
        + "<title>\(HTML.escape(String(format: "%@: %.4f", row.label, row.score)))</title></polyline>"
    }
    return svg + "</svg>"
  }

  /// A blue from light (0) to dark (1).
  private func shade(_ t: Double) -> String {
    let (light, dark) = ((198.0, 219.0, 239.0), (8.0, 48.0, 107.0))
    let mix = { (a: Double, b: Double) in Int((a + (b - a) * min(max(t, 0), 1)).rounded()) }
    return String(format: "#%02x%02x%02x", mix(light.0, dark.0), mix(light.1, dark.1), mix(light.2, dark.2))
  }
}
