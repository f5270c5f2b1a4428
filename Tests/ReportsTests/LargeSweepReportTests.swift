import Foundation
@testable import Reports
@testable import ResultsStore
import Training
import XCTest

/// The report of a sweep that repeats six learning rates over twenty seeds (the generated
/// sweep of `podium bench --mode report`): configurations, not 120 runs, at the top.
final class LargeSweepReportTests: XCTestCase {
  func testASweepOfSixRatesTimesTwentySeeds_reportsSixConfigurations_andWhatTheRateDoes() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-large-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let result = try ReportBenchmark(runs: 120, folder: folder).run()
    let page = try String(contentsOfFile: result.index, encoding: .utf8)
    let reports = URL(fileURLWithPath: result.index).deletingLastPathComponent()
    let configurations = try String(contentsOf: reports.appendingPathComponent("configurations.csv"), encoding: .utf8).split(separator: "\n")
    XCTAssertEqual(configurations.count, 1 + 6, "six configurations")
    XCTAssertTrue(configurations.dropFirst().allSatisfy { $0.contains("(n=20)") }, "\(configurations)")
    XCTAssertTrue(configurations[1].hasPrefix("1,lr 0.001,"), String(configurations[1]))
    XCTAssertTrue(page.contains("<p class=\"headline\">No clear winner: lr 0.001 (0.8023 ± 0.0583 (n=20)) and lr 0.0003 (0.7992 ± 0.0629 (n=20))"),
                  "the two best rates are within their seeds' spread")
    XCTAssertEqual(page.components(separatedBy: "<details class=\"configuration\">").count - 1, 6, "each configuration expandable to its runs")
    XCTAssertTrue(page.contains("<title>validation accuracy against lr</title>"), "the learning-rate chart")
    XCTAssertTrue(page.contains("lr (log scale)"))
    let importance = try String(contentsOf: reports.appendingPathComponent("importance.csv"), encoding: .utf8).split(separator: "\n")
    XCTAssertEqual(importance.map { $0.split(separator: ",")[0] }, ["hyperparameter", "lr", "interactions (what keys do together)",
                                                                     "seed and noise (within configurations)"])
    XCTAssertTrue(importance[2].hasSuffix(",0.0%"), "one key has no interactions: \(importance[2])")
    for svg in page.components(separatedBy: "<svg").dropFirst() {
      let body = svg.components(separatedBy: "</svg>")[0]
      let coloured = body.components(separatedBy: "<polyline").dropFirst().filter { !$0.contains("stroke-opacity") }
      XCTAssertLessThanOrEqual(coloured.count, 10, "no chart draws more than ten coloured series")
    }
  }

  /// The variance shares: a score that only the rate moves is all rate; seeds that move it
  /// alone are all noise.
  func testVarianceShares_attributeTheScoreToWhatMovesIt() {
    XCTAssertEqual(share(of: "lr", scores: { lr, _ in lr == 0.1 ? 0.9 : 0.5 }), 1, accuracy: 1e-9)
    XCTAssertEqual(share(of: "seed and noise (within configurations)", scores: { lr, _ in lr == 0.1 ? 0.9 : 0.5 }), 0, accuracy: 1e-9)
    XCTAssertEqual(share(of: "lr", scores: { _, seed in seed == 0 ? 0.9 : 0.5 }), 0, accuracy: 1e-9)
    XCTAssertEqual(share(of: "seed and noise (within configurations)", scores: { _, seed in seed == 0 ? 0.9 : 0.5 }), 1, accuracy: 1e-9)
  }

  /// Two rates × two seeds with scores from `scores(lr, seed)`; the table's share of `row`.
  private func share(of row: String, scores: (Float, UInt64) -> Double) -> Double {
    var runs: [StoredRun] = []
    for (index, (lr, seed)) in [(Float(0.1), UInt64(0)), (0.1, 1), (0.01, 0), (0.01, 1)].enumerated() {
      var spec = RunSpec(backbone: .smallCNN, strategy: .scratch)
      (spec.training.learningRate, spec.training.seed) = (lr, seed)
      runs.append(StoredRun(id: Int64(index + 1), sweepID: 1, status: .done, backbone: "small_cnn", strategy: "scratch", spec: spec,
                            validationMetric: scores(lr, seed)))
    }
    let results = SweepResults(sweep: StoredSweep(id: 1, name: "s", spec: "", metric: .accuracy, createdAt: Date()), dataset: nil, runs: runs,
                               epochs: [:], ranked: RunRanking.ranked(runs, by: .accuracy))
    let table = HyperparameterEffects(results: results).importance()
    return table.rows.first { $0[0].text == row }?[2].sortKey ?? .nan
  }

  /// Many lines: the first eight keep their colours and legend entries, the rest are thin
  /// grey lines counted in one entry.
  func testLineChart_mutesAllButTheBestLines() {
    let series = (0..<20).map { LineChart.Series(name: "run \($0)", colour: $0, muted: $0 >= 8, points: [(1, 0.5), (2, 0.6)]) }
    let html = LineChart(title: "t", series: series, xLabel: "epoch", yLabel: "accuracy").html()
    XCTAssertEqual(html.components(separatedBy: "stroke-opacity=\"0.6\"").count - 1, 12)
    XCTAssertEqual(html.components(separatedBy: "<span><i").count - 1, 8 + 1)
    XCTAssertTrue(html.contains("12 more (grey)"))
    XCTAssertFalse(html.contains("</i>run 8</span>"), "muted lines stay out of the legend")
    XCTAssertTrue(html.contains("</i>run 7</span>"))
  }
}
