import Foundation
import ResultsStore
import XCTest

final class ResultsStoreTests: XCTestCase {
  private var path: String!

  override func setUp() {
    path = FileManager.default.temporaryDirectory.appendingPathComponent("podium-\(UUID().uuidString).sqlite").path
  }

  override func tearDown() {
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
  }

  private let plan = [(backbone: "small_cnn", strategy: "scratch", params: #"{"lr":0.001}"#),
                      (backbone: "efficientnet_lite0", strategy: "features", params: #"{"lr":0.001}"#)]

  func testSchema_hasTheDocumentedTables() throws {
    let store = try ResultsStore(path: path)
    XCTAssertEqual(try store.tableNames(), ["artifacts", "confusion", "datasets", "epochs", "predictions", "runs", "splits", "sweeps"])
  }

  func testPlanningTwice_neitherLosesNorDuplicatesRuns() throws {
    let store = try ResultsStore(path: path)
    let sweep = try store.planSweep(name: "baseline", spec: "name: baseline", metric: "accuracy", runs: plan)
    let again = try ResultsStore(path: path).planSweep(name: "baseline", spec: "name: baseline", metric: "accuracy", runs: plan)
    XCTAssertEqual(sweep, again)
    XCTAssertEqual(try store.statusCounts(sweep: sweep), [.queued: 2])
  }

  func testRunLifecycle_epochsAndResultsAreKept() throws {
    let store = try ResultsStore(path: path)
    let sweep = try store.planSweep(name: "s", spec: "", metric: "accuracy", runs: plan)
    let first = try XCTUnwrap(try store.unfinishedRuns(sweep: sweep).first)
    try store.startRun(first.id, version: "0.1.0", machine: "test")
    try store.recordEpoch(run: first.id, epoch: 0, trainLoss: 2, trainMetric: 0.2, validationLoss: 2.1, validationMetric: 0.25, seconds: 1)
    try store.recordEpoch(run: first.id, epoch: 0, trainLoss: 2, trainMetric: 0.2, validationLoss: 2.1, validationMetric: 0.3, seconds: 1)  // replayed after a crash
    try store.recordEpoch(run: first.id, epoch: 1, trainLoss: 1, trainMetric: 0.5, validationLoss: 1.1, validationMetric: 0.5, seconds: 1)
    XCTAssertEqual(try store.epochs(run: first.id).map(\.validationMetric), [0.3, 0.5])
    // A reopened store sees the interrupted run as unfinished, with its epochs.
    let reopened = try ResultsStore(path: path)
    XCTAssertEqual(try reopened.unfinishedRuns(sweep: sweep).map(\.status), [.running, .queued])
    try reopened.finishRun(first.id, status: .done, validationMetric: 0.5, testMetric: 0.45, metrics: #"{"accuracy":0.45}"#,
                           confusion: ["test": "[[1,0],[0,1]]"], predictions: [(subset: "unlabelled", imageID: "1", probabilities: "[0.2,0.8]")],
                           artifacts: ["best": "/runs/1/best.safetensors"])
    XCTAssertEqual(try reopened.statusCounts(sweep: sweep), [.done: 1, .queued: 1])
    let summary = try XCTUnwrap(try reopened.sweepSummaries().first)
    XCTAssertEqual(summary.bestRun, first.id)
    XCTAssertNotNil(summary.etaSeconds, "one run finished: the other's time can be estimated")
  }

  func testAFileThatIsNotADatabase_isOneClearError() throws {
    try Data("not sqlite at all".utf8).write(to: URL(fileURLWithPath: path))
    XCTAssertThrowsError(try ResultsStore(path: path)) { XCTAssertTrue("\($0)".hasPrefix(self.path + ": "), "\($0)") }
  }
}
