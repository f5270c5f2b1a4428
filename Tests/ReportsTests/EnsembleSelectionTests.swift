import Datasets
import Foundation
import Reports
import ResultsStore
import Sweeps
import Training
import XCTest

/// Ensembles chosen on validation predictions.
final class EnsembleSelectionTests: XCTestCase {
  private var path: String!

  override func setUp() {
    path = FileManager.default.temporaryDirectory.appendingPathComponent("podium-ensemble-\(UUID().uuidString).sqlite").path
  }

  override func tearDown() {
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
  }

  /// Three runs, each right on four of six validation images (P(true class) 0.8) and wrong
  /// on the other two (0.4), each on different ones: any two together are right on all six.
  private func store(wrong: [[Int]]) throws -> ResultsStore {
    let store = try ResultsStore(path: path)
    let dataset = DatasetRecord(name: "d", adapter: "image-folder", root: "/d", options: [:], classNames: ["a", "b"], split: "{}", seed: 0,
                                assignments: [])
    let plan = wrong.indices.map { index -> RunSpec in
      var spec = RunSpec(backbone: .smallCNN, strategy: .scratch)
      spec.training.seed = UInt64(index)
      return spec
    }
    let sweep = try store.planSweep(name: "e", spec: "", metric: .accuracy, dataset: dataset, runs: plan)
    let worker = WorkerIdentity(host: "test", processID: 1, processStart: 1)
    for misses in wrong {
      let claim = try XCTUnwrap(try store.claimRun(sweep: sweep, worker: worker, policy: .standard))
      let validation = (0..<6).map { image -> PredictionRecord in
        let label = image % 2, p: Float = misses.contains(image) ? 0.4 : 0.8
        return PredictionRecord(subset: .validation, imageID: "v\(image)", path: "v\(image).png", label: label,
                                probabilities: label == 0 ? [p, 1 - p] : [1 - p, p])
      }
      let unlabelled = [PredictionRecord(subset: .unlabelled, imageID: "1", path: "t/1.png", label: nil, probabilities: [0.9, 0.1])]
      try store.completeRun(claim, RunCompletion(outcome: .done, validationMetric: 4.0 / 6, predictions: validation + unlabelled))
    }
    return store
  }

  /// Runs 1, 2 and 3 as models scored by `metric`.
  private func models(_ store: ResultsStore, _ metric: MetricName) throws -> [SweepModel] {
    try [1, 2, 3].map { try SweepModel.containing(run: $0, in: store, metric: metric) }
  }

  func testGreedySelection_beatsTheBestSingleRun_whenTwoRunsErrApart() throws {
    let store = try store(wrong: [[4, 5], [0, 1], [2, 3]])
    let greedy = try EnsembleSelection(models: try models(store, .accuracy), metric: .accuracy, method: .greedy, size: 5)
    XCTAssertEqual(greedy.bestSingle.score, 4.0 / 6, accuracy: 1e-12)
    XCTAssertEqual(greedy.score, 1)
    XCTAssertEqual(greedy.weights.map(\.run), [1, 2], "the first two that together get every image right")
    XCTAssertEqual(greedy.weights.map(\.weight), [0.5, 0.5])
    let mean = try EnsembleSelection(models: try models(store, .accuracy), metric: .accuracy, method: .mean)
    XCTAssertEqual(mean.weights.count, 3)
    XCTAssertEqual(mean.score, 1)
    let plan = try SubmissionPlan(.weighted([1: 0.5, 2: 0.5]), store: store, format: .labels)
    XCTAssertEqual(plan.submission.rows, [["1", "a"]])
    XCTAssertTrue(plan.summary.hasPrefix("mean of run 1, run 2"), plan.summary)
  }

  /// Whatever the runs, greedy never scores below the best single run on what it chose by.
  func testGreedySelection_neverScoresBelowTheBestSingleRun() throws {
    let store = try store(wrong: [[0], [0, 1, 2], [3, 4, 5]])
    for metric in MetricName.allCases {
      let greedy = try EnsembleSelection(models: try models(store, metric), metric: metric, method: .greedy, size: 6)
      XCTAssertFalse(metric.isBetter(greedy.bestSingle.score, than: greedy.score), "\(metric.rawValue): \(greedy.score) vs \(greedy.bestSingle)")
      XCTAssertEqual(greedy.weights.map(\.weight).reduce(0, +), 1, accuracy: 1e-9)
    }
  }
}
