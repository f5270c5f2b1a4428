import Foundation
import Training

/// Runs (or cross-validated configurations) that differ only in their seed: one
/// configuration, summarised by the mean and spread of its members' scores, so a sweep that
/// repeats each setting over seeds ranks settings rather than lucky seeds.
struct SweepConfiguration {
  /// Its members, best first.
  var members: [SweepContender]
  /// The hyperparameters that vary across the sweep, with this configuration's values:
  /// `lr 0.001 · head mlp` (backbone and strategy when nothing else varies).
  var label: String

  var scores: [Double] { members.compactMap(\.score).filter(\.isFinite) }
  var testScores: [Double] { members.compactMap(\.testScore).filter(\.isFinite) }
  /// The mean and standard deviation (over members) of the scores.
  var spread: (mean: Double, std: Double)? { foldSpread(scores) }
  var testSpread: (mean: Double, std: Double)? { foldSpread(testScores) }
  var seconds: Double { members.compactMap(\.seconds).reduce(0, +) }

  /// `0.8123 ± 0.0210 (n=20)`, or the score alone for one member.
  var summary: String {
    guard let spread else { return "–" }
    return members.count == 1 ? String(format: "%.4f", spread.mean) : String(format: "%.4f ± %.4f (n=%d)", spread.mean, spread.std, scores.count)
  }

  /// The configuration as one contender: named by its label, scored by its mean, timed by
  /// all its runs, linked to its best run.
  var asContender: SweepContender {
    let best = members[0]
    return SweepContender(name: label, id: best.id, runIDs: members.flatMap(\.runIDs), backbone: best.backbone, strategy: best.strategy,
                          spec: best.spec, score: spread?.mean, seconds: seconds, test: [], testScore: testSpread?.mean)
  }

  /// The contenders grouped by their hyperparameters without the seed, best mean first
  /// (ties by their best member's rank).
  static func group(_ contenders: [SweepContender], metric: MetricName) -> [SweepConfiguration] {
    let varying = varyingKeys(contenders.compactMap(\.spec))
    var groups: [[SweepContender]] = [], index: [String: Int] = [:]
    for contender in contenders {
      let key = contender.spec.flatMap { spec in try? Self.withoutSeed(spec).canonicalJSON() } ?? "run \(contender.id)"
      if let existing = index[key] { groups[existing].append(contender) } else {
        index[key] = groups.count
        groups.append([contender])
      }
    }
    let configurations = groups.map { SweepConfiguration(members: $0, label: label($0[0], varying: varying)) }
    return configurations.enumerated().sorted { a, b in
      let (x, y) = (a.element.spread?.mean ?? .nan, b.element.spread?.mean ?? .nan)
      if x.isFinite != y.isFinite { return x.isFinite }
      return x == y || !x.isFinite ? a.offset < b.offset : metric.isBetter(x, than: y)
    }.map(\.element)
  }

  /// True when some configuration has more than one member (seeds were repeated).
  static func repeatsSeeds(_ configurations: [SweepConfiguration]) -> Bool {
    configurations.contains { $0.members.count > 1 }
  }

  /// Whether `first` is ahead of `second` by more than their spread says: the difference of
  /// the means exceeds twice its standard error (Welch's, from the members' sample
  /// variances) — roughly a 95% two-sided test. Nil when either has fewer than two members.
  static func isClearlyAhead(_ first: SweepConfiguration, of second: SweepConfiguration, metric: MetricName) -> Bool? {
    let (a, b) = (first.scores, second.scores)
    guard a.count >= 2, b.count >= 2, let x = first.spread, let y = second.spread else { return nil }
    let variance = { (values: [Double], mean: Double) in values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1) }
    let error = (variance(a, x.mean) / Double(a.count) + variance(b, y.mean) / Double(b.count)).squareRoot()
    let lead = metric.isMaximised ? x.mean - y.mean : y.mean - x.mean
    return lead > 2 * error
  }

  /// The hyperparameters whose values differ between `specs`, the seed left out, in the
  /// table's order.
  static func varyingKeys(_ specs: [RunSpec]) -> [Hyperparameter] {
    Hyperparameter.allCases.filter { key in
      key != .seed && Set(specs.map { key.value(in: $0)?.description ?? "" }).count > 1
    }
  }

  private static func withoutSeed(_ spec: RunSpec) -> RunSpec {
    var spec = spec.configuration
    spec.training.seed = 0
    return spec
  }

  private static func label(_ contender: SweepContender, varying: [Hyperparameter]) -> String {
    guard let spec = contender.spec, !varying.isEmpty else { return "\(contender.backbone) · \(contender.strategy)" }
    return varying.map { "\($0.rawValue) \($0.value(in: spec)?.description ?? "default")" }.joined(separator: " · ")
  }
}
