import Datasets
import Engine
import Foundation
import ResultsStore
import Sweeps
import XCTest

/// Many worker processes on one database: every run done exactly once, whatever is started
/// together and whatever is killed.
final class SweepWorkersTests: XCTestCase {
  private var folder: URL!
  private var spec: URL { folder.appendingPathComponent("sweep.yaml") }
  private var database: String { folder.appendingPathComponent("podium.sqlite").path }
  private var work: String { folder.appendingPathComponent("runs").path }

  override func setUpWithError() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-workers-\(UUID().uuidString)")
    try DemoDataset(imagesPerClass: 2, testImagesPerClass: 0, size: 24).write(to: folder.appendingPathComponent("data"))
  }

  override func tearDown() { try? FileManager.default.removeItem(at: folder) }

  /// A sweep of `runs` (a multiple of 4) small_cnn runs of `epochs` epochs on 24-pixel images
  /// (on `images` per class of 32 pixels, when given, for longer runs).
  private func writeSpec(runs: Int, epochs: Int, images: Int? = nil) throws {
    var data = folder.appendingPathComponent("data")
    if let images {
      data = folder.appendingPathComponent("data-\(images)")
      try DemoDataset(imagesPerClass: images, testImagesPerClass: 0, size: 32).write(to: data)
    }
    let rates = (1...(runs / 4)).map { String(format: "%.4f", Double($0) / 1000) }.joined(separator: ", ")
    try """
      name: many
      dataset: {adapter: natural-images, root: "\(data.path)", split: {train: 0.5, val: 0.25, test: 0.25}}
      grid: {backbone: [small_cnn], strategy: [scratch], lr: [\(rates)], seed: [1, 2, 3, 4]}
      fixed: {epochs: \(epochs), batch_size: 8, image_size: 24, augment: none}
      """.write(to: spec, atomically: true, encoding: .utf8)
  }

  /// Starts `podium arguments` in the background, its output into `log`.
  private func start(_ arguments: [String], log: String) throws -> Process {
    let process = Process()
    process.executableURL = PodiumRunner().executable
    process.arguments = arguments
    process.environment = PodiumRunner.commandEnvironment
    let file = folder.appendingPathComponent(log)
    FileManager.default.createFile(atPath: file.path, contents: nil)
    let handle = try FileHandle(forWritingTo: file)
    (process.standardOutput, process.standardError) = (handle, handle)
    try process.run()
    return process
  }

  private var worker: [String] {
    ["sweep", "worker", spec.path, "--db", database, "--work", work, "--threads", "1"]
  }

  /// Checks every planned run ended done once: one finished attempt each, epochs 0..<epochs
  /// without gaps, and no two attempts at a run that overlap in time.
  private func assertEachRunDoneOnce(runs: Int, epochs: Int, file: StaticString = #filePath, line: UInt = #line) throws {
    let store = try ResultsStore(path: database)
    let sweep = try store.latestSweepID()
    let stored = try store.runs(sweep: sweep)
    XCTAssertEqual(stored.count, runs, file: file, line: line)
    XCTAssertEqual(Set(try stored.map { try XCTUnwrap($0.spec).canonicalJSON() }).count, runs, "distinct runs", file: file, line: line)
    XCTAssertEqual(stored.filter { $0.status == .done }.count, runs, "\(stored.map(\.status))", file: file, line: line)
    for run in stored {
      XCTAssertEqual(try store.epochRecords(run: run.id).map(\.epoch), Array(0..<epochs), "run \(run.id)", file: file, line: line)
      let attempts = try store.attempts(run: run.id)
      XCTAssertEqual(attempts.filter { $0.outcome == .done }.count, 1, "run \(run.id): \(attempts.map(\.outcome))", file: file, line: line)
      for (earlier, later) in zip(attempts, attempts.dropFirst()) {
        XCTAssertLessThanOrEqual(try XCTUnwrap(earlier.endedAt), later.startedAt, "run \(run.id): attempts overlap", file: file, line: line)
      }
    }
  }

  /// The issue's bar: four workers and one `sweep run` started together on 24 runs.
  func testFourWorkersAndASweepRunStartedTogether_doEach24RunsOnce() throws {
    try writeSpec(runs: 24, epochs: 2)
    let processes = try (1...4).map { try start(worker, log: "worker-\($0).log") }
      + [try start(["sweep", "run", spec.path, "--db", database, "--work", work], log: "run.log")]
    for process in processes { process.waitUntilExit() }
    XCTAssertEqual(processes.map(\.terminationStatus), [0, 0, 0, 0, 0])
    try assertEachRunDoneOnce(runs: 24, epochs: 2)
    let store = try ResultsStore(path: database)
    let attempts = try store.attempts(sweep: try store.latestSweepID())
    XCTAssertEqual(attempts.count, 24, "no run claimed twice")
    XCTAssertGreaterThan(Set(attempts.map(\.processID)).count, 1, "the runs were shared between processes")
  }

  /// Two `sweep run` commands at once finish each run exactly once.
  func testTwoSweepRunCommandsAtOnce_finishEachRunOnce() throws {
    try writeSpec(runs: 8, epochs: 2)
    let run = ["sweep", "run", spec.path, "--db", database, "--work", work]
    let processes = [try start(run, log: "a.log"), try start(run, log: "b.log")]
    for process in processes { process.waitUntilExit() }
    XCTAssertEqual(processes.map(\.terminationStatus), [0, 0])
    try assertEachRunDoneOnce(runs: 8, epochs: 2)
  }

  /// `sweep run --workers 3` starts three worker processes that share the runs and the cores.
  func testSweepRunWithWorkers_sharesTheRunsBetweenProcesses() throws {
    try writeSpec(runs: 8, epochs: 1)
    let result = try PodiumRunner().run(["sweep", "run", spec.path, "--db", database, "--work", work, "--workers", "3"])
    XCTAssertEqual(result.status, 0, result.stderr)
    XCTAssertTrue(result.stdout.contains("sweep many: 8 done, 0 pruned, 0 failed, 0 running, 0 queued after 3 workers"), result.stdout)
    XCTAssertTrue(result.stderr.contains("started 3 workers with"), result.stderr)
    try assertEachRunDoneOnce(runs: 8, epochs: 1)
  }

  /// A worker stopped (SIGSTOP) past its lease loses its run to another worker, which
  /// resumes it; continued, the stopped worker finds the run gone, records nothing more for
  /// it and exits. The run is done once, by the second worker.
  func testAWorkerStoppedPastItsLease_losesItsRun_andRecordsNothingWhenItWakes() throws {
    try writeSpec(runs: 4, epochs: 6, images: 12)
    let lease = ["--lease", "3", "--heartbeat", "1"]
    let stopped = try start(worker + lease, log: "stopped.log")
    let store = try ResultsStore(path: database)
    let deadline = Date().addingTimeInterval(120)
    while Date() < deadline, (try? store.epochRecords(run: 1).count) ?? 0 < 1 { usleep(20_000) }
    kill(stopped.processIdentifier, SIGSTOP)
    let epochsWhenStopped = try store.epochRecords(run: 1).count
    sleep(4)
    let status = try PodiumRunner().run(["sweep", "status", "--db", database])
    XCTAssertTrue(status.stdout.contains("  run 1 (epoch \(epochsWhenStopped + 1) of 6): attempt 1 on \(ProcessInfo.processInfo.hostName), "
      + "process \(stopped.processIdentifier), last heard from "), status.stdout)
    let other = try PodiumRunner().run(worker + lease)
    XCTAssertEqual(other.status, 0, other.stderr)
    XCTAssertTrue(other.stderr.contains("run 1 (attempt 2)"), other.stderr)
    kill(stopped.processIdentifier, SIGCONT)
    stopped.waitUntilExit()
    XCTAssertEqual(stopped.terminationStatus, 0)
    let said = try String(contentsOf: folder.appendingPathComponent("stopped.log"), encoding: .utf8)
    XCTAssertTrue(said.contains("run 1: the lease was lost to another worker; this worker stopped the run"), said)
    XCTAssertGreaterThanOrEqual(epochsWhenStopped, 1)
    try assertEachRunDoneOnce(runs: 4, epochs: 6)
    XCTAssertEqual(try store.attempts(run: 1).map(\.outcome), [.lost, .done])
  }

  /// Workers killed with SIGKILL at random moments (seeded, at most six kills) and replaced:
  /// the sweep still ends with every run done once, its epochs without gaps or repeats.
  func testWorkersKilledAtRandom_stillFinishEveryRunOnce() throws {
    try writeSpec(runs: 12, epochs: 4, images: 12)
    var random = SeededGenerator(seed: 7)
    // Enough attempts that the random kills cannot use up a run's (that limit has its own test).
    let worker = self.worker + ["--max-attempts", "10"]
    var live = try (1...3).map { try start(worker, log: "worker-start-\($0).log") }
    var kills = 0, started = 3
    let deadline = Date().addingTimeInterval(240)
    while kills < 6 && Date() < deadline && live.contains(where: \.isRunning) {
      usleep(UInt32.random(in: 300_000..<1_500_000, using: &random))
      let running = live.filter(\.isRunning)
      guard !running.isEmpty else { break }
      let victim = running[Int.random(in: 0..<running.count, using: &random)]
      kill(victim.processIdentifier, SIGKILL)
      victim.waitUntilExit()
      kills += 1
      started += 1
      live.append(try start(worker, log: "worker-start-\(started).log"))
    }
    for process in live { process.waitUntilExit() }
    // Whatever the last kills left running is taken over by one more worker.
    let last = try PodiumRunner().run(worker)
    XCTAssertEqual(last.status, 0, last.stderr)
    XCTAssertGreaterThanOrEqual(kills, 3, "the sweep ended before enough workers were killed")
    try assertEachRunDoneOnce(runs: 12, epochs: 4)
    let store = try ResultsStore(path: database)
    let lost = try store.attempts(sweep: try store.latestSweepID()).filter { $0.outcome == .lost }
    XCTAssertGreaterThan(lost.count, 0, "some kill hit a worker during a run, and another worker took the run over")
  }
}


/// The contract between a scheduler and `podium sweep worker --task I`: pod (or array task) I
/// runs run I of the plan into its own shard, and says so in its attempt.
final class SweepTaskContractTests: XCTestCase {
  private var folder: URL!

  override func setUpWithError() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-task-\(UUID().uuidString)")
    try DemoDataset(imagesPerClass: 2, testImagesPerClass: 0, size: 24).write(to: folder.appendingPathComponent("data"))
    try """
      name: indexed
      dataset: {adapter: natural-images, root: "\(folder.appendingPathComponent("data").path)", split: {train: 0.5, val: 0.25, test: 0.25}}
      grid: {backbone: [small_cnn], strategy: [scratch], lr: [0.001, 0.002, 0.003]}
      fixed: {epochs: 1, batch_size: 8, image_size: 24, augment: none}
      """.write(to: folder.appendingPathComponent("sweep.yaml"), atomically: true, encoding: .utf8)
  }

  override func tearDown() { try? FileManager.default.removeItem(at: folder) }

  /// What a Kubernetes pod with completion index 2 runs.
  func testAnIndexedPod_runsItsOwnRunIntoItsOwnShard() throws {
    let work = folder.appendingPathComponent("volume/runs")
    let environment = ["JOB_COMPLETION_INDEX": "2", "PODIUM_JOB_NAME": "podium-indexed"]
    let result = try PodiumRunner().run(["sweep", "worker", folder.appendingPathComponent("sweep.yaml").path, "--work", work.path,
                                         "--task", "2"], setting: environment)
    XCTAssertEqual(result.status, 0, result.stderr)
    XCTAssertTrue(result.stdout.hasSuffix("\ntask 2 of sweep indexed: done\n"), result.stdout)
    let layout = ShardLayout(work: work.path, sweep: "indexed")
    XCTAssertEqual(ShardLayout.shardFiles(in: layout.shards).map(\.lastPathComponent), ["task-2.sqlite"])
    let shard = try ResultsStore.shard(at: layout.shard(task: 2).path)
    let runs = try shard.runs(sweep: try shard.latestSweepID())
    XCTAssertEqual(runs.map(\.spec?.training.learningRate), [0.003], "the third run of the plan, alone")
    XCTAssertEqual(runs.map(\.status), [.done])
    XCTAssertEqual(try shard.attempts(run: runs[0].id).map(\.task),
                   [SchedulerTask(scheduler: "kubernetes", jobID: "podium-indexed", taskID: "2", restartCount: nil)])
    XCTAssertTrue(FileManager.default.fileExists(atPath: layout.checkpoints(task: 2).appendingPathComponent("train").path))
    // The pod of a finished index, started again, does nothing and succeeds.
    let again = try PodiumRunner().run(["sweep", "worker", folder.appendingPathComponent("sweep.yaml").path, "--work", work.path,
                                        "--task", "2"], setting: environment)
    XCTAssertEqual(again.stdout, "task 2 of sweep indexed: nothing to do\n")
  }

  func testAnIndexPastThePlan_isOneClearError() throws {
    let result = try PodiumRunner().run(["sweep", "worker", folder.appendingPathComponent("sweep.yaml").path, "--work",
                                         folder.appendingPathComponent("runs").path, "--task", "3"])
    XCTAssertEqual(result.status, 1)
    XCTAssertEqual(result.stderr, "Error: indexed: task 3 is not one of the sweep's 3 planned runs (0–2)\n")
  }

  /// `podium sweep slurm` writes an array of every unfinished run: after task 1 has run (its
  /// shard merged first), submitting again covers tasks 0 and 2 only.
  func testTheSlurmCommand_arraysOnlyTheUnfinishedRuns() throws {
    let spec = folder.appendingPathComponent("sweep.yaml").path, work = folder.appendingPathComponent("shared").path
    let database = folder.appendingPathComponent("podium.sqlite").path
    let first = try PodiumRunner().run(["sweep", "slurm", spec, "--db", database, "--work", work, "--max-parallel", "2"])
    XCTAssertEqual(first.status, 0, first.stderr)
    XCTAssertTrue(first.stdout.contains("#SBATCH --array=0-2%2\n"), first.stdout)
    let layout = ShardLayout(work: work, sweep: "indexed")
    XCTAssertEqual(try String(contentsOf: layout.folder.appendingPathComponent("sweep.sbatch"), encoding: .utf8) + "\n", first.stdout)
    let task = try PodiumRunner().run(["sweep", "worker", layout.spec.path, "--work", work, "--task", "1"])
    XCTAssertEqual(task.status, 0, task.stderr)
    let again = try PodiumRunner().run(["sweep", "slurm", spec, "--db", database, "--work", work, "--max-parallel", "2"])
    XCTAssertTrue(again.stdout.contains("#SBATCH --array=0,2%2\n"), again.stdout)
    let status = try PodiumRunner().run(["sweep", "status", "--db", database])
    XCTAssertTrue(status.stdout.hasPrefix("indexed: 1 done, 0 pruned, 0 failed, 0 running, 2 queued"), status.stdout)
  }

  /// `podium sweep k8s` writes a manifest for the planned runs.
  func testTheK8sCommand_writesAJobForEveryPlannedRun() throws {
    let result = try PodiumRunner().run(["sweep", "k8s", folder.appendingPathComponent("sweep.yaml").path, "--image", "podium:test",
                                         "--volume", "work-claim", "--parallelism", "2"])
    XCTAssertEqual(result.status, 0, result.stderr)
    XCTAssertTrue(result.stdout.contains("  completions: 3\n  parallelism: 2\n  backoffLimitPerIndex: 2\n"), result.stdout)
    XCTAssertTrue(result.stdout.contains("claimName: \"work-claim\""), result.stdout)
  }
}
