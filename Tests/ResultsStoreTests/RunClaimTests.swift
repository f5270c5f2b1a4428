import Datasets
import Foundation
import ResultsStore
import Sweeps
import Training
import XCTest

/// Claims, leases and attempts: any number of workers on one store run each run once.
final class RunClaimTests: XCTestCase {
  private var path: String!
  private var sweep: Int64 = 0
  private let plan = (1...8).map { index -> RunSpec in
    var spec = RunSpec(backbone: .smallCNN, strategy: .scratch)
    spec.training.learningRate = Float(index) / 1000
    return spec
  }

  override func setUpWithError() throws {
    path = FileManager.default.temporaryDirectory.appendingPathComponent("podium-claims-\(UUID().uuidString).sqlite").path
    let dataset = DatasetRecord(name: "d", adapter: "image-folder", root: "/d", options: [:], classNames: ["a", "b"], split: "{}", seed: 0,
                                assignments: [])
    sweep = try ResultsStore(path: path).planSweep(name: "claims", spec: "", metric: .accuracy, dataset: dataset, runs: plan)
  }

  override func tearDown() {
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
  }

  /// A worker on another machine: only its lease says whether it lives.
  private func remoteWorker(_ name: String) -> WorkerIdentity {
    WorkerIdentity(host: "elsewhere-\(name)", processID: 1, processStart: 1)
  }

  private let epoch = EpochRecord(epoch: 0, trainLoss: 1, trainMetric: 0.5, validationLoss: 1, validationMetric: 0.5, seconds: 1)

  /// Six workers, each with its own connection, claim and finish at once: every run is
  /// claimed exactly once, on its first attempt.
  func testWorkersClaimingAtOnce_getEachRunExactlyOnce() throws {
    final class Claimed: @unchecked Sendable {
      let lock = NSLock()
      var runs: [Int64] = [], errors: [String] = []
    }
    let claimed = Claimed()
    DispatchQueue.concurrentPerform(iterations: 6) { index in
      do {
        let store = try ResultsStore(path: path)
        let worker = remoteWorker("\(index)")
        while let claim = try store.claimRun(sweep: sweep, worker: worker, policy: .standard) {
          claimed.lock.withLock { claimed.runs.append(claim.run) }
          try store.recordEpoch(claim, epoch)
          try store.completeRun(claim, RunCompletion(outcome: .done, validationMetric: 0.5))
        }
      } catch { claimed.lock.withLock { claimed.errors.append("\(error)") } }
    }
    XCTAssertEqual(claimed.errors, [])
    XCTAssertEqual(claimed.runs.sorted(), Array(1...8).map(Int64.init))
    let store = try ResultsStore(path: path)
    XCTAssertEqual(try store.statusCounts(sweep: sweep), [.done: 8])
    let attempts = try store.attempts(sweep: sweep)
    XCTAssertEqual(attempts.map(\.attempt), Array(repeating: 1, count: 8))
    XCTAssertEqual(attempts.map(\.outcome), Array(repeating: .done, count: 8))
  }

  /// A worker whose lease ran out loses its run to the next worker, which resumes it as
  /// attempt 2; the first can then record nothing for it.
  func testAnExpiredLease_isReclaimed_andTheOldWorkerIsFencedOut() throws {
    let store = try ResultsStore(path: path)
    let short = LeasePolicy(lease: 0.3, heartbeat: 0.1, maxAttempts: 3)
    let first = try XCTUnwrap(try store.claimRun(sweep: sweep, worker: remoteWorker("a"), policy: short))
    let second = try XCTUnwrap(try store.claimRun(sweep: sweep, worker: remoteWorker("b"), policy: short))
    XCTAssertNotEqual(first.run, second.run, "a live lease is not taken")
    XCTAssertTrue(try store.renewLease(second, policy: LeasePolicy(lease: 60, heartbeat: 1, maxAttempts: 3)))
    usleep(400_000)
    let third = try XCTUnwrap(try store.claimRun(sweep: sweep, worker: remoteWorker("c"), policy: short))
    XCTAssertEqual(third.run, first.run, "the expired run comes first in plan order")
    XCTAssertEqual(third.attempt, 2)
    XCTAssertFalse(try store.renewLease(first, policy: short))
    XCTAssertThrowsError(try store.recordEpoch(first, epoch)) { XCTAssertTrue($0 is LeaseLostError, "\($0)") }
    XCTAssertThrowsError(try store.completeRun(first, RunCompletion(outcome: .done))) { XCTAssertTrue($0 is LeaseLostError, "\($0)") }
    XCTAssertEqual(try store.run(id: first.run)?.status, .running, "the fenced worker changed nothing")
    try store.completeRun(third, RunCompletion(outcome: .done, validationMetric: 0.7))
    XCTAssertEqual(try store.attempts(run: first.run).map(\.outcome), [.lost, .done])
    XCTAssertEqual(try store.attempts(run: first.run).map(\.host), ["elsewhere-a", "elsewhere-c"])
  }

  /// A worker on this host whose process is gone loses its run at once, however long its lease.
  func testARunOfADeadProcessOnThisHost_isReclaimedWithoutWaitingForTheLease() throws {
    let exited = Process()
    exited.executableURL = URL(fileURLWithPath: "/bin/true")
    try exited.run()
    exited.waitUntilExit()
    let host = ProcessInfo.processInfo.hostName
    let dead = WorkerIdentity(host: host, processID: exited.processIdentifier, processStart: 1)
    let store = try ResultsStore(path: path)
    let lost = try XCTUnwrap(try store.claimRun(sweep: sweep, worker: dead, policy: .standard))
    let alive = WorkerIdentity.current()
    XCTAssertTrue(alive.isAlive(seenFrom: host), "this test process is alive")
    let taken = try XCTUnwrap(try store.claimRun(sweep: sweep, worker: alive, policy: .standard))
    XCTAssertEqual(taken.run, lost.run)
    XCTAssertEqual(taken.attempt, 2)
    // A live process on this host keeps its run.
    let next = try XCTUnwrap(try store.claimRun(sweep: sweep, worker: WorkerIdentity.current(), policy: .standard))
    XCTAssertNotEqual(next.run, taken.run)
  }

  /// A heartbeat keeps a run; without one the lease runs out.
  func testHeartbeats_keepTheRun() throws {
    let store = try ResultsStore(path: path)
    let policy = LeasePolicy(lease: 0.4, heartbeat: 0.1, maxAttempts: 3)
    let claim = try XCTUnwrap(try store.claimRun(sweep: sweep, worker: remoteWorker("a"), policy: policy))
    for _ in 0..<6 {
      usleep(100_000)
      XCTAssertTrue(try store.renewLease(claim, policy: policy))
    }
    let other = try XCTUnwrap(try store.claimRun(sweep: sweep, worker: remoteWorker("b"), policy: policy))
    XCTAssertNotEqual(other.run, claim.run, "0.6 s after the claim, the renewed lease still holds")
  }

  /// A run whose workers keep vanishing stops after the allowed attempts, failed with a reason.
  func testARunThatKeepsLosingItsWorkers_failsAfterMaxAttempts() throws {
    let store = try ResultsStore(path: path)
    let policy = LeasePolicy(lease: 0.1, heartbeat: 0.03, maxAttempts: 2)
    let first = try XCTUnwrap(try store.claimRun(sweep: sweep, worker: remoteWorker("a"), policy: policy))
    usleep(150_000)
    XCTAssertEqual(try store.claimRun(sweep: sweep, worker: remoteWorker("b"), policy: policy)?.run, first.run)
    usleep(150_000)
    let next = try XCTUnwrap(try store.claimRun(sweep: sweep, worker: remoteWorker("c"), policy: policy))
    XCTAssertNotEqual(next.run, first.run)
    let failed = try XCTUnwrap(try store.run(id: first.run))
    XCTAssertEqual(failed.status, .failed)
    XCTAssertTrue(failed.error?.hasPrefix("stopped after 2 attempts: each time the worker was lost") == true, failed.error ?? "")
    XCTAssertTrue(failed.error?.contains("elsewhere-b") == true, failed.error ?? "")
    XCTAssertEqual(try store.attempts(run: first.run).map(\.outcome), [.lost, .lost])
  }

  /// A scheduler task takes over its own run whatever the lease says; a requeued one records
  /// the earlier attempt as requeued and its task ids.
  func testATaskClaim_takesOverItsRun_andRecordsTheScheduler() throws {
    let store = try ResultsStore(path: path)
    let environment = ["SLURM_ARRAY_JOB_ID": "77", "SLURM_ARRAY_TASK_ID": "2", "SLURM_RESTART_COUNT": "0"]
    var worker = WorkerIdentity.current(environment: environment)
    let first = try XCTUnwrap(try store.claimTask(sweep: sweep, spec: plan[2], worker: worker, policy: .standard))
    XCTAssertEqual(first.run, 3)
    worker = WorkerIdentity.current(environment: environment.merging(["SLURM_RESTART_COUNT": "1"]) { $1 })
    let second = try XCTUnwrap(try store.claimTask(sweep: sweep, spec: plan[2], worker: worker, policy: .standard))
    XCTAssertEqual(second.attempt, 2)
    try store.completeRun(second, RunCompletion(outcome: .done))
    XCTAssertNil(try store.claimTask(sweep: sweep, spec: plan[2], worker: worker, policy: .standard), "a finished run is not run again")
    let attempts = try store.attempts(run: 3)
    XCTAssertEqual(attempts.map(\.outcome), [.requeued, .done])
    XCTAssertEqual(attempts.map { $0.task?.restartCount }, [0, 1])
    XCTAssertEqual(attempts[1].task, SchedulerTask(scheduler: "slurm", jobID: "77", taskID: "2", restartCount: 1))
    XCTAssertTrue(attempts[1].worker.hasSuffix("slurm job 77 task 2 (restart 1)"), attempts[1].worker)
  }
}
