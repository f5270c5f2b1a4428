import Foundation
import Training

/// The report's view of a sweep that repeats settings over seeds: one row per configuration
/// (mean ± standard deviation and n of the sweep's metric), each expandable to its runs.
struct ConfigurationSections {
  let results: SweepResults
  let configurations: [SweepConfiguration]

  init(results: SweepResults) {
    self.results = results
    configurations = SweepConfiguration.group(SweepContender.all(results), metric: results.sweep.metric)
  }

  /// True when the sweep repeated some setting over seeds, so configurations say more than runs.
  var applies: Bool { SweepConfiguration.repeatsSeeds(configurations) }

  /// What the report compares: the configurations (by their mean) when seeds repeat, else
  /// the runs or cross-validated configurations.
  var contenders: [SweepContender] {
    applies ? configurations.map(\.asContender) : SweepContender.all(results)
  }

  private var scoreName: String {
    (results.crossValidated.isEmpty ? "validation " : "CV ") + results.sweep.metric.rawValue
  }

  /// One row per configuration, best mean first.
  func table() -> ReportTable {
    let metric = results.sweep.metric.rawValue
    let rows = configurations.enumerated().map { rank, configuration -> [ReportTable.Cell] in
      let best = configuration.members[0]
      return [.integer(rank + 1), .init(configuration.label), .init(best.backbone), .init(best.strategy), .integer(configuration.members.count),
              .init(configuration.summary, sortKey: configuration.spread?.mean), .number(configuration.spread?.std),
              .init(best.name, sortKey: Double(best.id), link: "run-\(best.id).html"), .number(best.score),
              .init(configuration.testSpread.map { String(format: "%.4f ± %.4f", $0.mean, $0.std) } ?? "", sortKey: configuration.testSpread?.mean),
              .number(configuration.seconds, digits: 1)]
    }
    return ReportTable(name: "configurations", header: ["rank", "configuration", "backbone", "strategy", "runs", "\(scoreName) mean ± std",
                                                        "std", "best run", "best \(scoreName)", "test \(metric) mean ± std", "seconds"], rows: rows)
  }

  /// Each configuration's runs, best first, behind a disclosure triangle.
  func details() -> String {
    configurations.enumerated().map { rank, configuration in
      let runs = configuration.members.map { member in
        "<li><a href=\"run-\(member.id).html\">\(HTML.escape(member.name))</a> \(HTML.escape(Findings.format(member.score)))</li>"
      }.joined()
      let summary = "\(rank + 1). \(configuration.label): \(configuration.members.count) run\(configuration.members.count == 1 ? "" : "s"), "
        + configuration.summary
      return "<details class=\"configuration\"><summary>\(HTML.escape(summary))</summary><ol class=\"runs\">\(runs)</ol></details>"
    }.joined()
  }
}
