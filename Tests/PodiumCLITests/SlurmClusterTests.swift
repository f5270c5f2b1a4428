import Datasets
import Foundation
import ResultsStore
import Sweeps
import XCTest

/// `podium sweep slurm --submit` on a real one-node Slurm (`scripts/slurm/local-cluster.sh
/// start`; `.ci/run` starts it and sets `PODIUM_REQUIRE_SLURM=1`, so that there this test
/// fails rather than skips without one): one task requeued in the middle of its run, another
/// task's worker killed with SIGKILL; after the array ends and a merge, every run is done
/// exactly once.
final class SlurmClusterTests: XCTestCase {
  private var folder: URL!
  private var database: String { folder.appendingPathComponent("podium.sqlite").path }
  private var work: URL { folder.appendingPathComponent("shared") }
  private let epochs = 8

  override func setUpWithError() throws {
    guard Self.clusterIsUp() else {
      if ProcessInfo.processInfo.environment["PODIUM_REQUIRE_SLURM"] == "1" {
        XCTFail("no Slurm node is up: scripts/slurm/local-cluster.sh start")
      }
      throw XCTSkip("no Slurm cluster here (scripts/slurm/local-cluster.sh start makes one, as root)")
    }
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-slurm-\(UUID().uuidString)")
    try DemoDataset(imagesPerClass: 12, testImagesPerClass: 1, size: 32).write(to: folder.appendingPathComponent("data"))
    try """
      name: cluster
      dataset: {adapter: natural-images, root: "\(folder.appendingPathComponent("data").path)", split: {train: 0.5, val: 0.25, test: 0.25}}
      grid: {backbone: [small_cnn], strategy: [scratch], lr: [0.001, 0.002], seed: [1, 2]}
      fixed: {epochs: \(epochs), batch_size: 8, image_size: 32, augment: light}
      """.write(to: folder.appendingPathComponent("sweep.yaml"), atomically: true, encoding: .utf8)
  }

  override func tearDown() {
    if let folder { try? FileManager.default.removeItem(at: folder) }
  }

  private static func clusterIsUp() -> Bool {
    guard let states = try? command("/usr/bin/env", ["sinfo", "-h", "-o", "%T"]) else { return false }
    return states.split(separator: "\n").contains { ["idle", "mixed", "allocated"].contains($0.trimmingCharacters(in: .whitespaces)) }
  }

  @discardableResult
  private static func command(_ path: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let output = Pipe()
    (process.standardOutput, process.standardError) = (output, output)
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw NSError(domain: "command", code: Int(process.terminationStatus), userInfo: [NSLocalizedDescriptionKey: "\(arguments): \(text)"])
    }
    return text
  }

  private func shard(_ task: Int) -> ResultsStore? {
    let file = ShardLayout(work: work.path, sweep: "cluster").shard(task: task)
    guard FileManager.default.fileExists(atPath: file.path) else { return nil }
    return try? ResultsStore.shard(at: file.path)
  }

  /// The epochs task `task` recorded so far, and the attempt now running (nil before one is).
  private func progress(_ task: Int) -> (epochs: Int, running: StoredAttempt?) {
    guard let store = shard(task), let sweep = try? store.latestSweepID(), let run = try? store.runs(sweep: sweep).first else { return (0, nil) }
    let epochs = (try? store.epochRecords(run: run.id).count) ?? 0
    return (epochs, (try? store.attempts(run: run.id))?.last { $0.outcome == .running })
  }

  private func waitFor(_ what: String, seconds: Double = 180, _ condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
      if try condition() { return }
      usleep(50_000)
    }
    throw Timeout(what: what)
  }

  /// A step of the scenario that never happened: the test fails with it and stops there.
  private struct Timeout: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(what)" }
  }

  func testAnArraySweep_withARequeuedTaskAndAKilledWorker_endsWithEveryRunDoneOnce() throws {
    let submitted = try PodiumRunner().run([
      "sweep", "slurm", folder.appendingPathComponent("sweep.yaml").path, "--db", database, "--work", work.path, "--max-parallel", "2",
      "--submit",
    ])
    XCTAssertEqual(submitted.status, 0, submitted.stderr)
    let job = try XCTUnwrap(submitted.stdout.split(separator: "\n").last { $0.hasPrefix("submitted Slurm job ") }?.split(separator: " ").last)
    defer { _ = try? Self.command("/usr/bin/env", ["scancel", String(job)]) }

    // Tasks 0 and 1 run first (two at a time). Task 1: its worker process killed with SIGKILL
    // mid-run; the array script starts another, which resumes the run. Task 0: requeued in
    // the middle of its run (Slurm kills it and runs it again later; released at once
    // instead of after Slurm's two-minute hold).
    try waitFor("tasks 0 and 1 to be under way") { progress(0).epochs >= 2 && progress(1).epochs >= 1 && progress(1).running != nil }
    let victim = try XCTUnwrap(progress(1).running)
    XCTAssertEqual(kill(victim.processID, SIGKILL), 0, "worker process \(victim.processID) of task 1")
    try Self.command("/usr/bin/env", ["scontrol", "requeue", "\(job)_0"])
    try waitFor("task 0 to start again", seconds: 240) {
      _ = try? Self.command("/usr/bin/env", ["scontrol", "update", "JobId=\(job)_0", "StartTime=now"])
      return progress(0).running?.task?.restartCount == 1
    }
    try waitFor("the array to finish", seconds: 300) {
      (try Self.command("/usr/bin/env", ["squeue", "-h", "-j", String(job)])).trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
    }
    let merged = try PodiumRunner().run(["sweep", "merge", "--db", database])
    XCTAssertEqual(merged.status, 0, merged.stderr)
    XCTAssertTrue(merged.stdout.hasPrefix("merged 4 shards into"), merged.stdout)
    XCTAssertTrue(try PodiumRunner().run(["sweep", "merge", "--db", database]).stdout.contains("0 runs updated, 0 attempts added"),
                  "a second merge changes nothing")

    let store = try ResultsStore(path: database)
    let sweep = try store.latestSweepID()
    let runs = try store.runs(sweep: sweep)
    XCTAssertEqual(runs.map(\.status), Array(repeating: .done, count: 4), "\(runs.map { $0.error ?? "" })")
    for run in runs {
      XCTAssertEqual(try store.epochRecords(run: run.id).map(\.epoch), Array(0..<epochs), "run \(run.id)")
      XCTAssertEqual(try store.attempts(run: run.id).filter { $0.outcome == .done }.count, 1, "run \(run.id)")
    }
    let requeued = try store.attempts(run: runs[0].id)
    XCTAssertEqual(requeued.map(\.outcome), [.requeued, .done])
    XCTAssertEqual(requeued.map { $0.task?.restartCount }, [0, 1])
    XCTAssertTrue(requeued.allSatisfy { $0.task?.jobID == String(job) && $0.task?.taskID == "0" }, "\(requeued.map(\.worker))")
    XCTAssertEqual(try store.attempts(run: runs[1].id).map(\.outcome), [.lost, .done])

    // The requeued run's weights equal those of the same run never interrupted.
    let alone = folder.appendingPathComponent("alone")
    let uninterrupted = try PodiumRunner().run([
      "sweep", "worker", ShardLayout(work: work.path, sweep: "cluster").spec.path, "--work", alone.path, "--task", "0", "--threads", "1",
    ])
    XCTAssertEqual(uninterrupted.status, 0, uninterrupted.stderr)
    let last = "train/epoch-\(epochs - 1)/last.safetensors"
    let interruptedWeights = try Data(contentsOf: ShardLayout(work: work.path, sweep: "cluster").checkpoints(task: 0).appendingPathComponent(last))
    let aloneWeights = try Data(contentsOf: ShardLayout(work: alone.path, sweep: "cluster").checkpoints(task: 0).appendingPathComponent(last))
    XCTAssertEqual(interruptedWeights, aloneWeights, "the requeued run resumed exactly")
  }
}
