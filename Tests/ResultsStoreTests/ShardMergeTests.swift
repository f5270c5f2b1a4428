import Datasets
import Foundation
import ResultsStore
import Sweeps
import Training
import XCTest

/// Shards of a scheduler's tasks folded into the main store: idempotent, finished beats
/// unfinished, every attempt kept once.
final class ShardMergeTests: XCTestCase {
  private var folder: URL!
  private var shards: URL { folder.appendingPathComponent("many/shards") }
  private let plan = (1...3).map { index -> RunSpec in
    var spec = RunSpec(backbone: .smallCNN, strategy: .scratch)
    spec.training.learningRate = Float(index) / 1000
    return spec
  }
  private let dataset = DatasetRecord(name: "d", adapter: "image-folder", root: "/d", options: [:], classNames: ["a", "b"], split: "{}",
                                      seed: 0, assignments: [Assignment(path: "a/1.png", subset: .train, label: 0),
                                                                   Assignment(path: "b/1.png", subset: .validation, label: 1)])

  override func setUpWithError() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-merge-\(UUID().uuidString)")
  }

  override func tearDown() { try? FileManager.default.removeItem(at: folder) }

  private func task(_ index: Int, restart: Int = 0) -> WorkerIdentity {
    WorkerIdentity.current(environment: ["SLURM_ARRAY_JOB_ID": "9", "SLURM_ARRAY_TASK_ID": "\(index)", "SLURM_RESTART_COUNT": "\(restart)"])
  }

  private func epoch(_ index: Int) -> EpochRecord {
    EpochRecord(epoch: index, trainLoss: 1, trainMetric: 0.5, validationLoss: 1, validationMetric: 0.5 + Double(index) / 10, seconds: 1)
  }

  /// Task `index`'s shard with its run claimed, `epochs` epochs recorded, and finished when `finish`.
  @discardableResult
  private func writeShard(_ index: Int, epochs: Int, finish: Bool, restart: Int = 0) throws -> ResultsStore {
    let shard = try ResultsStore.shard(at: shards.appendingPathComponent("task-\(index).sqlite").path)
    let sweep = try shard.planSweep(name: "many", spec: "name: many", metric: .accuracy, dataset: dataset, runs: [plan[index]])
    let claim = try XCTUnwrap(try shard.claimTask(sweep: sweep, spec: plan[index], worker: task(index, restart: restart), policy: .standard))
    for e in 0..<epochs { try shard.recordEpoch(claim, epoch(e)) }
    if finish {
      let prediction = PredictionRecord(subset: .validation, imageID: "b/1.png", path: "b/1.png", label: 1, probabilities: [0.3, 0.7])
      try shard.completeRun(claim, RunCompletion(outcome: .done, validationMetric: 0.7, predictions: [prediction],
                                                 artifacts: [.checkpoint: "/runs/many/task-\(index)/best.safetensors"]))
    }
    return shard
  }

  func testMerging_foldsEveryShardOnce_andAgainChangesNothing() throws {
    let main = try ResultsStore(path: folder.appendingPathComponent("main.sqlite").path)
    let sweep = try main.planSweep(name: "many", spec: "name: many", metric: .accuracy, dataset: dataset, runs: plan)
    try main.recordShardFolder(shards.path, sweep: sweep)
    try writeShard(0, epochs: 2, finish: true)
    try writeShard(1, epochs: 1, finish: false)
    let first = try main.mergeRecordedShards()
    XCTAssertEqual(first, ResultsStore.MergeSummary(shards: 2, runsUpdated: 2, attemptsAdded: 2, skipped: []))
    XCTAssertEqual(try main.statusCounts(sweep: sweep), [.done: 1, .running: 1, .queued: 1])
    XCTAssertEqual(try main.epochRecords(run: 1).map(\.epoch), [0, 1])
    XCTAssertEqual(try main.predictions(run: 1, subset: .validation).map(\.probabilities), [[0.3, 0.7]])
    XCTAssertEqual(try main.artifacts(run: 1), [.checkpoint: "/runs/many/task-0/best.safetensors"])
    XCTAssertEqual(try main.attempts(run: 1).map(\.task?.taskID), ["0"])
    let again = try main.mergeRecordedShards()
    XCTAssertEqual(again, ResultsStore.MergeSummary(shards: 2, runsUpdated: 0, attemptsAdded: 0, skipped: []))
    XCTAssertEqual(try main.attempts(sweep: sweep).count, 2)
  }

  /// A task that ran on after the last merge brings its run up to date; a copy of a finished
  /// run in another shard that did not finish changes nothing; every attempt is kept.
  func testALaterMerge_takesTheFurtherState_andKeepsTheFinishedAttempt() throws {
    let main = try ResultsStore(path: folder.appendingPathComponent("main.sqlite").path)
    try writeShard(1, epochs: 1, finish: false)
    _ = try main.merge(shards: ShardLayout.shardFiles(in: shards))
    let sweep = try main.latestSweepID()
    XCTAssertEqual(try main.runs(sweep: sweep).map(\.status), [.running], "a sweep only the shard knew is created")
    try writeShard(1, epochs: 3, finish: true, restart: 1)  // the requeued task finishes the run
    XCTAssertEqual(try main.merge(shards: ShardLayout.shardFiles(in: shards)).runsUpdated, 1)
    XCTAssertEqual(try main.runs(sweep: sweep).map(\.status), [.done])
    XCTAssertEqual(try main.epochRecords(run: 1).map(\.epoch), [0, 1, 2])
    XCTAssertEqual(try main.attempts(run: 1).map(\.outcome), [.requeued, .done])
    // The same run in a stray second shard, unfinished: the finished one stays.
    let stray = folder.appendingPathComponent("stray")
    let other = try ResultsStore.shard(at: stray.appendingPathComponent("task-1.sqlite").path)
    let otherSweep = try other.planSweep(name: "many", spec: "name: many", metric: .accuracy, dataset: dataset, runs: [plan[1]])
    let claim = try XCTUnwrap(try other.claimTask(sweep: otherSweep, spec: plan[1], worker: task(1), policy: .standard))
    try other.recordEpoch(claim, epoch(0))
    let summary = try main.merge(shards: ShardLayout.shardFiles(in: stray))
    XCTAssertEqual(summary.runsUpdated, 0)
    XCTAssertEqual(summary.attemptsAdded, 1)
    XCTAssertEqual(try main.runs(sweep: sweep).map(\.status), [.done])
    XCTAssertEqual(try main.epochRecords(run: 1).count, 3)
    XCTAssertEqual(try main.attempts(run: 1).map(\.attempt), [1, 2, 3])
  }

  /// A file that is not a shard is named and skipped; the others merge.
  func testAnUnreadableShard_isSkippedWithOneLine() throws {
    let main = try ResultsStore(path: folder.appendingPathComponent("main.sqlite").path)
    try writeShard(0, epochs: 1, finish: true)
    try Data("not sqlite".utf8).write(to: shards.appendingPathComponent("task-2.sqlite"))
    let summary = try main.merge(shards: ShardLayout.shardFiles(in: shards))
    XCTAssertEqual(summary.shards, 1)
    XCTAssertEqual(summary.skipped.count, 1)
    XCTAssertTrue(summary.skipped[0].hasPrefix(shards.appendingPathComponent("task-2.sqlite").path + ": not merged this time: "),
                  summary.skipped[0])
  }
}
