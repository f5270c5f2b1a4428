import Foundation
import GRDB
import Sweeps
import Training

/// Claims with leases: how any number of workers share one store and run every run once.
///
/// A claim is one `UPDATE … RETURNING` that moves a run from `queued` (or from `running`
/// with an expired lease) to `running` under the worker's token; every later write for the
/// run (epochs, heartbeats, the result) checks that token in the same transaction, so a
/// worker that lost its run records nothing more for it. Each claim is a row of `attempts`.
extension ResultsStore: ResultSink {
  /// A run a claim may take at `:now`: queued, or running under a lease that ran out (or
  /// that was never taken: a run left running by a Podium before leases).
  private static let claimable = "(status = 'queued' OR (status = 'running' AND COALESCE(lease_expires_at, 0) < :now))"

  public func claimRun(sweep: Int64, worker: WorkerIdentity, policy: LeasePolicy) throws -> RunClaim? {
    try write { db in
      let now = Date()
      try self.expireDeadOwners(sweep: sweep, seenFrom: worker.host, db)
      try self.failExhaustedRuns(sweep: sweep, policy: policy, now: now, db)
      let token = UUID().uuidString
      let row = try Row.fetchOne(db, sql: """
        UPDATE runs SET \(Self.claimAssignments)
        WHERE id = (SELECT id FROM runs WHERE sweep_id = :sweep AND \(Self.claimable) ORDER BY id LIMIT 1) AND \(Self.claimable)
        RETURNING id, params, attempts
        """, arguments: Self.claimArguments(worker, token, policy, now, extra: ["sweep": sweep]))
      return try row.map { try self.startAttempt($0, worker: worker, token: token, previous: .lost, now: now, db) }
    }
  }

  public func claimTask(sweep: Int64, spec: RunSpec, worker: WorkerIdentity, policy: LeasePolicy) throws -> RunClaim? {
    let params = try spec.canonicalJSON()
    return try write { db in
      let now = Date()
      guard let run = try Row.fetchOne(db, sql: "SELECT id, status, attempts FROM runs WHERE sweep_id = ? AND params = ?",
                                       arguments: [sweep, params]),
        RunStatus(rawValue: run["status"])?.isOpen == true
      else { return nil }
      if (run["attempts"] as Int) >= policy.maxAttempts {
        try self.failExhausted(run: run["id"], attempts: run["attempts"], now: now, db)
        return nil
      }
      let token = UUID().uuidString
      let row = try Row.fetchOne(db, sql: """
        UPDATE runs SET \(Self.claimAssignments) WHERE id = :run AND status IN ('queued', 'running') RETURNING id, params, attempts
        """, arguments: Self.claimArguments(worker, token, policy, now, extra: ["run": run["id"] as Int64]))
      let requeued = (worker.scheduler?.restartCount ?? 0) > 0
      return try row.map { try self.startAttempt($0, worker: worker, token: token, previous: requeued ? .requeued : .lost, now: now, db) }
    }
  }

  public func renewLease(_ claim: RunClaim, policy: LeasePolicy) throws -> Bool {
    try write { db in
      let now = Date()
      try db.execute(sql: "UPDATE runs SET lease_expires_at = ? WHERE id = ? AND lease_owner = ? AND status = 'running'",
                     arguments: [now.timeIntervalSince1970 + policy.lease, claim.run, claim.token])
      guard db.changesCount == 1 else { return false }
      try db.execute(sql: "UPDATE attempts SET heartbeat_at = ? WHERE owner = ?", arguments: [now, claim.token])
      return true
    }
  }

  public func recordEpoch(_ claim: RunClaim, _ epoch: EpochRecord) throws {
    try write { db in
      try self.checkHeld(claim, db)
      try self.insertEpoch(run: claim.run, epoch, db)
      try db.execute(sql: "UPDATE attempts SET heartbeat_at = ? WHERE owner = ?", arguments: [Date(), claim.token])
    }
  }

  public func completeRun(_ claim: RunClaim, _ completion: RunCompletion) throws {
    let prepared = try PreparedCompletion(completion)
    try write { db in
      try self.checkHeld(claim, db)
      try self.writeCompletion(claim.run, prepared, db)
      try db.execute(sql: "UPDATE attempts SET ended_at = ?, heartbeat_at = ?, outcome = ?, error = ? WHERE owner = ?",
                     arguments: [Date(), Date(), completion.outcome.rawValue, completion.error, claim.token])
    }
  }

  public func finishedMetrics(sweep: Int64, epoch: Int) throws -> [Double] {
    try read { db in
      try Double.fetchAll(db, sql: """
        SELECT epochs.val_metric FROM epochs JOIN runs ON runs.id = epochs.run_id
        WHERE runs.sweep_id = ? AND runs.status = 'done' AND epochs.epoch = ?
        """, arguments: [sweep, epoch])
    }
  }

  // MARK: - Parts of a claim

  private static let claimAssignments = """
    status = 'running', lease_owner = :owner, lease_expires_at = :expires, attempts = attempts + 1,
    started_at = COALESCE(started_at, :date), podium_version = :version, machine = :host, error = NULL
    """

  private static func claimArguments(_ worker: WorkerIdentity, _ token: String, _ policy: LeasePolicy, _ now: Date,
                                     extra: [String: Int64]) -> StatementArguments {
    var arguments: [String: (any DatabaseValueConvertible)?] = [
      "owner": token, "expires": now.timeIntervalSince1970 + policy.lease, "now": now.timeIntervalSince1970, "date": now,
      "version": worker.version, "host": worker.host,
    ]
    for (key, value) in extra { arguments[key] = value }
    return StatementArguments(arguments)
  }

  /// Ends the run's earlier attempt that never finished (as `previous`) and records the new one.
  private func startAttempt(_ row: Row, worker: WorkerIdentity, token: String, previous: AttemptOutcome, now: Date,
                            _ db: Database) throws -> RunClaim {
    let run: Int64 = row["id"], attempt: Int = row["attempts"]
    try db.execute(sql: "UPDATE attempts SET ended_at = heartbeat_at, outcome = ? WHERE run_id = ? AND outcome = 'running'",
                   arguments: [previous.rawValue, run])
    let task = worker.scheduler
    try db.execute(sql: """
      INSERT INTO attempts (run_id, attempt, owner, host, pid, process_start, scheduler, job_id, task_id, restart_count,
                            started_at, heartbeat_at, outcome)
      VALUES (?, (SELECT COALESCE(MAX(attempt), 0) + 1 FROM attempts WHERE run_id = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'running')
      """, arguments: [run, run, token, worker.host, worker.processID, Int64(bitPattern: worker.processStart), task?.scheduler,
                       task?.jobID, task?.taskID, task?.restartCount, now, now])
    return RunClaim(run: run, spec: row["params"], attempt: attempt, worker: worker, token: token)
  }

  /// Lets the runs of workers on `host` that are gone be claimed at once, without waiting
  /// for their leases to run out.
  private func expireDeadOwners(sweep: Int64, seenFrom host: String, _ db: Database) throws {
    let owners = try Row.fetchAll(db, sql: """
      SELECT runs.id, attempts.pid, attempts.process_start FROM runs JOIN attempts ON attempts.owner = runs.lease_owner
      WHERE runs.sweep_id = ? AND runs.status = 'running' AND attempts.host = ?
      """, arguments: [sweep, host])
    for owner in owners {
      let identity = WorkerIdentity(host: host, processID: owner["pid"], processStart: UInt64(bitPattern: owner["process_start"] as Int64))
      if !identity.isAlive(seenFrom: host) {
        try db.execute(sql: "UPDATE runs SET lease_expires_at = 0 WHERE id = ?", arguments: [owner["id"] as Int64])
      }
    }
  }

  /// Marks failed every run whose lease ran out after its last allowed attempt.
  private func failExhaustedRuns(sweep: Int64, policy: LeasePolicy, now: Date, _ db: Database) throws {
    let exhausted = try Row.fetchAll(db, sql: """
      SELECT id, attempts FROM runs WHERE sweep_id = ? AND status = 'running' AND COALESCE(lease_expires_at, 0) < ? AND attempts >= ?
      """, arguments: [sweep, now.timeIntervalSince1970, policy.maxAttempts])
    for run in exhausted { try failExhausted(run: run["id"], attempts: run["attempts"], now: now, db) }
  }

  private func failExhausted(run: Int64, attempts: Int, now: Date, _ db: Database) throws {
    let last = try Row.fetchOne(db, sql: "SELECT host, pid, heartbeat_at FROM attempts WHERE run_id = ? ORDER BY attempt DESC LIMIT 1",
                                arguments: [run])
    let lastWorker = last.map { row -> String in
      let heartbeat: Date = row["heartbeat_at"]
      return "; the last ran on \(row["host"] as String) as process \(row["pid"] as Int), last heard from at \(heartbeat)"
    } ?? ""
    let reason = "stopped after \(attempts) attempts: each time the worker was lost before the run finished\(lastWorker)"
    try db.execute(sql: "UPDATE attempts SET ended_at = heartbeat_at, outcome = 'lost' WHERE run_id = ? AND outcome = 'running'",
                   arguments: [run])
    try db.execute(sql: "UPDATE runs SET status = 'failed', error = ?, finished_at = ?, lease_owner = NULL, lease_expires_at = NULL WHERE id = ?",
                   arguments: [reason, now, run])
  }

  /// Throws ``LeaseLostError`` unless `claim` still holds its run.
  private func checkHeld(_ claim: RunClaim, _ db: Database) throws {
    let held = try Bool.fetchOne(db, sql: "SELECT 1 FROM runs WHERE id = ? AND lease_owner = ? AND status = 'running'",
                                 arguments: [claim.run, claim.token]) ?? false
    if !held { throw LeaseLostError(run: claim.run) }
  }
}
