import Datasets
import Foundation
import GRDB
@testable import ResultsStore
import Sweeps
import Training
import XCTest

final class ResultsStoreTests: XCTestCase {
  private var path: String!

  override func setUp() {
    path = FileManager.default.temporaryDirectory.appendingPathComponent("podium-\(UUID().uuidString).sqlite").path
  }

  override func tearDown() {
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
  }

  private let plan = [RunSpec(backbone: .smallCNN, strategy: .scratch), RunSpec(backbone: .efficientNetLite0, strategy: .features)]

  private let dataset = DatasetRecord(
    name: "demo", adapter: "natural-images", root: "/data/demo", options: ["clutter": "false"], classNames: ["cat", "dog"],
    split: #"{"fractions":{"train":0.5}}"#, seed: 3,
    assignments: [Assignment(path: "a/1.jpg", subset: .train, label: 0), Assignment(path: "a/2.jpg", subset: .test, label: 0),
                  Assignment(path: "b/1.jpg", subset: .validation, label: 1), Assignment(path: "b/2.jpg", subset: .test, label: 1)])

  func testSchema_hasTheDocumentedTables() throws {
    let store = try ResultsStore(path: path)
    XCTAssertEqual(try store.tableNames(), ["artifacts", "attempts", "confusion", "datasets", "epochs", "predictions", "runs",
                                            "shard_folders", "splits", "sweeps"])
  }

  /// Several connections creating the same new file at once (as a sweep starting while
  /// `sweep status` looks): every one opens it, and the schema is made once.
  func testOpeningANewFileFromSeveralConnectionsAtOnce_succeedsForEach() throws {
    for trial in 0..<10 {
      let file = path + ".\(trial)"
      defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: file + suffix) } }
      let failures = Failures()
      DispatchQueue.concurrentPerform(iterations: 4) { _ in
        do { _ = try ResultsStore(path: file) } catch { failures.add("\(error)") }
      }
      XCTAssertEqual(failures.messages, [], "trial \(trial)")
      XCTAssertEqual(try ResultsStore(path: file).tableNames().count, 10)
    }
  }

  private final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var messages: [String] = []
    func add(_ message: String) { lock.withLock { messages.append(message) } }
  }

  func testPlanningTwice_neitherLosesNorDuplicatesRuns() throws {
    let store = try ResultsStore(path: path)
    let sweep = try store.planSweep(name: "baseline", spec: "name: baseline", metric: .accuracy, dataset: dataset, runs: plan)
    let again = try ResultsStore(path: path).planSweep(name: "baseline", spec: "name: baseline", metric: .accuracy, dataset: dataset, runs: plan)
    XCTAssertEqual(sweep, again)
    XCTAssertEqual(try store.statusCounts(sweep: sweep), [.queued: 2])
  }

  func testRunLifecycle_epochsAndResultsAreKept() throws {
    let store = try ResultsStore(path: path)
    let sweep = try store.planSweep(name: "s", spec: "", metric: .accuracy, dataset: dataset, runs: plan)
    let worker = WorkerIdentity(host: "test", processID: 1, processStart: 1, version: "0.1.0")
    let claim = try XCTUnwrap(try store.claimRun(sweep: sweep, worker: worker, policy: .standard))
    let first = (id: claim.run, spec: plan[0])
    func epoch(_ index: Int, _ metric: Double) -> EpochRecord {
      EpochRecord(epoch: index, trainLoss: 2, trainMetric: 0.2, validationLoss: 2.1, validationMetric: metric, seconds: 1)
    }
    try store.recordEpoch(claim, epoch(0, 0.25))
    try store.recordEpoch(claim, epoch(0, 0.3))  // replayed after a crash
    try store.recordEpoch(claim, epoch(1, 0.5))
    XCTAssertEqual(try store.epochs(run: first.id).map(\.validationMetric), [0.3, 0.5])
    // A reopened store sees the interrupted run as unfinished, with its epochs.
    let reopened = try ResultsStore(path: path)
    XCTAssertEqual(try reopened.unfinishedRuns(sweep: sweep).map(\.spec), plan)
    XCTAssertEqual(try reopened.statusCounts(sweep: sweep), [.running: 1, .queued: 1])
    let predictions = [PredictionRecord(subset: .test, imageID: "a/2.jpg", path: "a/2.jpg", label: 0, probabilities: [0.75, 0.25]),
                       PredictionRecord(subset: .unlabelled, imageID: "1", path: "test/1.jpg", label: nil, probabilities: [0.2, 0.8])]
    let metrics = ClassificationMetrics(probabilities: [0.75, 0.25], labels: [0], classes: 2)
    try reopened.completeRun(claim, RunCompletion(outcome: .done, validationMetric: 0.5, testMetric: 0.45, metrics: metrics,
                                                   confusion: [.test: [[1, 0], [0, 1]]], predictions: predictions,
                                                   artifacts: [.checkpoint: "/runs/1/best.safetensors"]))
    XCTAssertEqual(try reopened.statusCounts(sweep: sweep), [.done: 1, .queued: 1])
    let summary = try XCTUnwrap(try reopened.sweepSummaries().first)
    XCTAssertEqual(summary.bestRun, first.id)
    XCTAssertNotNil(summary.etaSeconds, "one run finished: the other's time can be estimated")
    XCTAssertEqual(try reopened.predictions(run: first.id, subset: .test), [predictions[0]])
    XCTAssertEqual(try reopened.predictions(run: first.id, subset: .unlabelled), [predictions[1]])
    XCTAssertEqual(try reopened.confusion(run: first.id, subset: .test), [[1, 0], [0, 1]])
    XCTAssertEqual(try reopened.artifacts(run: first.id), [.checkpoint: "/runs/1/best.safetensors"])
    let stored = try XCTUnwrap(try reopened.run(id: first.id))
    XCTAssertEqual(stored.status, .done)
    XCTAssertEqual(stored.metrics, metrics)
    XCTAssertEqual(stored.spec, plan[0])
    XCTAssertNotNil(stored.seconds)
    XCTAssertEqual(stored.version, "0.1.0")
    XCTAssertEqual(try reopened.attempts(run: first.id).map(\.outcome), [.done])
  }

  /// A cross-validated split keeps every pool image's fold and its `cv:` settings; a split
  /// without keeps the spec's JSON as before.
  func testACrossValidatedSplit_keepsEachImagesFold() throws {
    let store = try ResultsStore(path: path)
    var folded = dataset
    let description = SplitDescription(split: .fractions(train: 0.5, validation: 0, test: 0.5), crossValidation: CrossValidation(folds: 2, seed: 7))
    folded.split = try description.json()
    folded.assignments = [Assignment(path: "a/1.jpg", subset: .train, label: 0, fold: 1), Assignment(path: "a/2.jpg", subset: .test, label: 0),
                          Assignment(path: "b/1.jpg", subset: .train, label: 1, fold: 0)]
    let sweep = try store.planSweep(name: "cv", spec: "", metric: .accuracy, dataset: folded, runs: plan)
    let stored = try XCTUnwrap(try store.dataset(ofSweep: sweep))
    XCTAssertEqual(stored.assignments, folded.assignments)
    XCTAssertEqual(stored.crossValidation, CrossValidation(folds: 2, seed: 7))
    XCTAssertEqual(SplitDescription(json: stored.split), description)
    let plain = SplitDescription(split: .fractions(train: 0.5, validation: 0, test: 0.5), crossValidation: nil)
    XCTAssertEqual(try plain.json(), #"{"fractions":{"test":0.5,"train":0.5,"validation":0}}"#)
    XCTAssertNil(dataset.crossValidation)
  }

  /// A run with test-time augmentation keeps its metrics without it beside the ones with it
  /// (and one with weight averaging, its trained weights' score).
  func testMetricsWithoutTTA_areStoredBesideTheRunsMetrics() throws {
    let store = try ResultsStore(path: path)
    let sweep = try store.planSweep(name: "tta", spec: "", metric: .accuracy, dataset: dataset, runs: plan)
    let ids = try store.runs(sweep: sweep).map(\.id)
    var completion = RunCompletion(outcome: .done, validationMetric: 0.8, testMetric: 0.75)
    (completion.plainValidationMetric, completion.plainTestMetric, completion.unaveragedValidationMetric) = (0.78, 0.7, 0.74)
    try store.finishRun(ids[0], completion)
    try store.finishRun(ids[1], RunCompletion(outcome: .done, validationMetric: 0.6))
    let runs = try store.runs(sweep: sweep)
    XCTAssertEqual(runs.map(\.plainValidationMetric), [0.78, nil])
    XCTAssertEqual(runs.map(\.unaveragedValidationMetric), [0.74, nil], "weight averaging's trained-weights score")
    XCTAssertEqual(runs.map(\.plainTestMetric), [0.7, nil])
    XCTAssertEqual(runs[0].testMetric, 0.75)
  }

  /// The sweep keeps its dataset's classes and exactly which image went where.
  func testTheSplit_isStoredWithTheSweep() throws {
    let store = try ResultsStore(path: path)
    let sweep = try store.planSweep(name: "s", spec: "", metric: .accuracy, dataset: dataset, runs: plan)
    let stored = try XCTUnwrap(try store.dataset(ofSweep: sweep))
    XCTAssertEqual(stored.classNames, ["cat", "dog"])
    XCTAssertEqual(stored.seed, 3)
    XCTAssertEqual(stored.assignments.map(\.path), dataset.assignments.map(\.path))
    XCTAssertEqual(stored.counts()[.test], [1, 1])
    XCTAssertEqual(stored.options, ["clutter": "false"])
    XCTAssertEqual(try store.datasetNames(), ["demo"])
    XCTAssertEqual(try store.sweepIDs(dataset: "demo"), [sweep])
  }

  /// A database written before datasets had names (the first migration only) opens, migrates
  /// and keeps its runs.
  func testAnOlderDatabase_migratesAndKeepsItsRuns() throws {
    let queue = try DatabaseQueue(path: path)
    try ResultsStore.migrator.migrate(queue, upTo: "Create results tables")
    try queue.write { db in
      try db.execute(sql: "INSERT INTO sweeps (name, spec, metric, created_at) VALUES ('old', '', 'accuracy', ?)", arguments: [Date()])
      try db.execute(sql: "INSERT INTO runs (sweep_id, status, backbone, strategy, params) VALUES (1, 'done', 'resnet18', 'features', '{}')")
    }
    try queue.close()
    let store = try ResultsStore(path: path)
    XCTAssertEqual(try store.sweeps().map(\.name), ["old"])
    XCTAssertEqual(try store.runs(sweep: 1).map(\.backbone), ["resnet18"])
  }

  func testAFileThatIsNotADatabase_isOneClearError() throws {
    try Data("not sqlite at all".utf8).write(to: URL(fileURLWithPath: path))
    XCTAssertThrowsError(try ResultsStore(path: path)) { XCTAssertTrue("\($0)".hasPrefix(self.path + ": "), "\($0)") }
  }
}
