import Foundation
import GRDB
import Sweeps

/// Podium's results database: SQLite through GRDB, in WAL mode, with versioned migrations.
///
/// Tables (names fixed so other tools can query them): `datasets`, `splits`, `sweeps`,
/// `runs` (status queued / running / done / failed / pruned, hyperparameters as canonical
/// JSON in `params`, the sweep metric on the best epoch in `val_metric` and `test_metric`,
/// every final metric as JSON in `metrics`), `epochs`, `predictions`, `confusion` and
/// `artifacts`. Every write is one transaction, so a killed process leaves either the whole
/// change or none of it.
public final class ResultsStore {
  /// The status of a run.
  public enum RunStatus: String, Sendable { case queued, running, done, failed, pruned }

  private let database: DatabasePool

  /// Opens (creating and migrating as needed) the database at `path`.
  ///
  /// - Throws: ``StoreError`` naming the file.
  public init(path: String) throws {
    do {
      database = try DatabasePool(path: path)
      try Self.migrator.migrate(database)
    } catch {
      throw StoreError(path: path, message: "\(error)")
    }
  }

  // MARK: - Schema

  static var migrator: DatabaseMigrator {
    var migrator = DatabaseMigrator()
    migrator.registerMigration("Create results tables") { db in
      try db.create(table: "datasets") { t in
        t.autoIncrementedPrimaryKey("id")
        t.column("adapter", .text).notNull()
        t.column("root", .text).notNull()
        t.column("options", .text).notNull().defaults(to: "{}")
        t.uniqueKey(["adapter", "root", "options"])
      }
      try db.create(table: "splits") { t in
        t.autoIncrementedPrimaryKey("id")
        t.column("dataset_id", .integer).notNull().references("datasets")
        t.column("spec", .text).notNull()
        t.column("seed", .integer).notNull()
        t.column("assignments", .text).notNull()  // JSON [[path, subset], ...]
        t.column("fingerprint", .text).notNull().unique()
      }
      try db.create(table: "sweeps") { t in
        t.autoIncrementedPrimaryKey("id")
        t.column("name", .text).notNull().unique()
        t.column("spec", .text).notNull()
        t.column("metric", .text).notNull()
        t.column("split_id", .integer).references("splits")
        t.column("created_at", .datetime).notNull()
      }
      try db.create(table: "runs") { t in
        t.autoIncrementedPrimaryKey("id")
        t.column("sweep_id", .integer).references("sweeps")
        t.column("status", .text).notNull().check { ["queued", "running", "done", "failed", "pruned"].contains($0) }
        t.column("backbone", .text).notNull()
        t.column("strategy", .text).notNull()
        t.column("params", .text).notNull()
        t.column("val_metric", .double)
        t.column("test_metric", .double)
        t.column("metrics", .text)
        t.column("error", .text)
        t.column("started_at", .datetime)
        t.column("finished_at", .datetime)
        t.column("podium_version", .text)
        t.column("machine", .text)
        t.uniqueKey(["sweep_id", "backbone", "strategy", "params"])
      }
      try db.create(table: "epochs") { t in
        t.column("run_id", .integer).notNull().references("runs", onDelete: .cascade)
        t.column("epoch", .integer).notNull()
        t.column("train_loss", .double).notNull()
        t.column("train_metric", .double)
        t.column("val_loss", .double).notNull()
        t.column("val_metric", .double).notNull()
        t.column("seconds", .double).notNull()
        t.primaryKey(["run_id", "epoch"])
      }
      try db.create(table: "predictions") { t in
        t.column("run_id", .integer).notNull().references("runs", onDelete: .cascade)
        t.column("image_id", .text).notNull()
        t.column("subset", .text).notNull()
        t.column("probabilities", .text).notNull()
        t.primaryKey(["run_id", "subset", "image_id"])
      }
      try db.create(table: "confusion") { t in
        t.column("run_id", .integer).notNull().references("runs", onDelete: .cascade)
        t.column("subset", .text).notNull()
        t.column("matrix", .text).notNull()
        t.primaryKey(["run_id", "subset"])
      }
      try db.create(table: "artifacts") { t in
        t.column("run_id", .integer).notNull().references("runs", onDelete: .cascade)
        t.column("kind", .text).notNull()
        t.column("path", .text).notNull()
        t.primaryKey(["run_id", "kind"])
      }
    }
    return migrator
  }

  // MARK: - Writes

  /// The id of the sweep called `name`, inserting it (with its planned runs as `queued`,
  /// in one transaction) when it is new. Runs already planned are kept as they are, so
  /// planning the same sweep again neither loses nor duplicates a run.
  public func planSweep(name: String, spec: String, metric: String, runs: [(backbone: String, strategy: String, params: String)]) throws -> Int64 {
    try write { db in
      if let id = try Int64.fetchOne(db, sql: "SELECT id FROM sweeps WHERE name = ?", arguments: [name]) {
        try self.insertRuns(runs, sweep: id, db)
        return id
      }
      try db.execute(sql: "INSERT INTO sweeps (name, spec, metric, created_at) VALUES (?, ?, ?, ?)", arguments: [name, spec, metric, Date()])
      let id = db.lastInsertedRowID
      try self.insertRuns(runs, sweep: id, db)
      return id
    }
  }

  private func insertRuns(_ runs: [(backbone: String, strategy: String, params: String)], sweep: Int64, _ db: Database) throws {
    for run in runs {
      try db.execute(
        sql: "INSERT OR IGNORE INTO runs (sweep_id, status, backbone, strategy, params) VALUES (?, 'queued', ?, ?, ?)",
        arguments: [sweep, run.backbone, run.strategy, run.params])
    }
  }

  /// Marks a run `running` with its start time and environment.
  public func startRun(_ id: Int64, version: String, machine: String) throws {
    try write { db in
      try db.execute(sql: "UPDATE runs SET status = 'running', started_at = ?, podium_version = ?, machine = ?, error = NULL WHERE id = ?",
                     arguments: [Date(), version, machine, id])
    }
  }

  /// Records one finished epoch (replacing a row of the same epoch from an interrupted attempt).
  public func recordEpoch(run: Int64, epoch: Int, trainLoss: Double, trainMetric: Double?, validationLoss: Double,
                          validationMetric: Double, seconds: Double) throws {
    try write { db in
      try db.execute(
        sql: "INSERT OR REPLACE INTO epochs (run_id, epoch, train_loss, train_metric, val_loss, val_metric, seconds) VALUES (?, ?, ?, ?, ?, ?, ?)",
        arguments: [run, epoch, trainLoss, trainMetric, validationLoss, validationMetric, seconds])
    }
  }

  /// Finishes a run: its status, metrics, confusion matrices, predictions and artefacts,
  /// all in one transaction.
  public func finishRun(
    _ id: Int64, status: RunStatus, validationMetric: Double?, testMetric: Double?, metrics: String?,
    confusion: [String: String] = [:], predictions: [(subset: String, imageID: String, probabilities: String)] = [],
    artifacts: [String: String] = [:], error: String? = nil
  ) throws {
    try write { db in
      try db.execute(
        sql: "UPDATE runs SET status = ?, val_metric = ?, test_metric = ?, metrics = ?, error = ?, finished_at = ? WHERE id = ?",
        arguments: [status.rawValue, validationMetric, testMetric, metrics, error, Date(), id])
      for (subset, matrix) in confusion {
        try db.execute(sql: "INSERT OR REPLACE INTO confusion (run_id, subset, matrix) VALUES (?, ?, ?)", arguments: [id, subset, matrix])
      }
      for prediction in predictions {
        try db.execute(sql: "INSERT OR REPLACE INTO predictions (run_id, subset, image_id, probabilities) VALUES (?, ?, ?, ?)",
                       arguments: [id, prediction.subset, prediction.imageID, prediction.probabilities])
      }
      for (kind, path) in artifacts {
        try db.execute(sql: "INSERT OR REPLACE INTO artifacts (run_id, kind, path) VALUES (?, ?, ?)", arguments: [id, kind, path])
      }
    }
  }

  // MARK: - Reads

  /// Runs of a sweep that still need work (queued, or running when a process died), in plan order.
  public func unfinishedRuns(sweep: Int64) throws -> [(id: Int64, params: String, status: RunStatus)] {
    try database.read { db in
      try Row.fetchAll(db, sql: "SELECT id, params, status FROM runs WHERE sweep_id = ? AND status IN ('queued', 'running') ORDER BY id",
                       arguments: [sweep]).map { ($0["id"], $0["params"], RunStatus(rawValue: $0["status"]) ?? .queued) }
    }
  }

  /// Run counts by status for a sweep.
  public func statusCounts(sweep: Int64) throws -> [RunStatus: Int] {
    try database.read { db in
      var counts: [RunStatus: Int] = [:]
      for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM runs WHERE sweep_id = ? GROUP BY status", arguments: [sweep]) {
        if let status = RunStatus(rawValue: row["status"]) { counts[status] = row["n"] }
      }
      return counts
    }
  }

  /// The epochs recorded for a run, in order: `(epoch, val_metric)`.
  public func epochs(run: Int64) throws -> [(epoch: Int, validationMetric: Double)] {
    try database.read { db in
      try Row.fetchAll(db, sql: "SELECT epoch, val_metric FROM epochs WHERE run_id = ? ORDER BY epoch", arguments: [run])
        .map { ($0["epoch"], $0["val_metric"]) }
    }
  }

  /// One sweep's progress, for `podium sweep status`.
  public struct SweepSummary: Encodable {
    public var name: String
    public var metric: String
    public var counts: [String: Int]
    public var bestRun: Int64?
    public var bestMetric: Double?
    /// Estimated seconds to finish the queued and running runs: their count times the mean
    /// duration of the finished ones (nil before any run finished).
    public var etaSeconds: Double?
  }

  /// Every sweep with its run counts by status and its best finished run by validation metric.
  public func sweepSummaries() throws -> [SweepSummary] {
    try database.read { db in
      try Row.fetchAll(db, sql: "SELECT id, name, metric FROM sweeps ORDER BY id").map { sweep in
        let id: Int64 = sweep["id"], metric: String = sweep["metric"]
        var counts: [String: Int] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM runs WHERE sweep_id = ? GROUP BY status", arguments: [id]) {
          counts[row["status"]] = row["n"]
        }
        let order = metric == "logloss" ? "ASC" : "DESC"
        let best = try Row.fetchOne(db, sql: "SELECT id, val_metric FROM runs WHERE sweep_id = ? AND status = 'done' ORDER BY val_metric \(order) LIMIT 1",
                                    arguments: [id])
        let meanSeconds = try Double.fetchOne(db, sql: """
          SELECT AVG((julianday(finished_at) - julianday(started_at)) * 86400) FROM runs
          WHERE sweep_id = ? AND status IN ('done', 'pruned') AND started_at IS NOT NULL AND finished_at IS NOT NULL
          """, arguments: [id])
        let remaining = (counts["queued"] ?? 0) + (counts["running"] ?? 0)
        return SweepSummary(name: sweep["name"], metric: metric, counts: counts, bestRun: best?["id"], bestMetric: best?["val_metric"],
                            etaSeconds: meanSeconds.map { $0 * Double(remaining) })
      }
    }
  }

  /// Number of stored predictions (all runs).
  public func predictionCount() throws -> Int {
    try database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM predictions") ?? 0 }
  }

  /// The names of the tables, for checks.
  public func tableNames() throws -> [String] {
    try database.read { db in
      try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'grdb_%' ORDER BY name")
    }
  }

  private func write<T>(_ body: @escaping (Database) throws -> T) throws -> T {
    do { return try database.write(body) } catch let error as DatabaseError {
      throw StoreError(path: database.path, message: "\(error)")
    }
  }
}

/// A database failure: the file and SQLite's message (GRDB's description shape).
public struct StoreError: Error, CustomStringConvertible {
  public var path: String
  public var message: String
  public var description: String { "\(path): \(message)" }
}

extension ResultsStore: ResultSink {
  public func unfinishedRunParams(sweep: Int64) throws -> [(id: Int64, params: String)] {
    try unfinishedRuns(sweep: sweep).map { ($0.id, $0.params) }
  }

  public func completeRun(_ id: Int64, outcome: RunOutcome, validationMetric: Double?, testMetric: Double?, metrics: String?,
                          confusion: String?, predictions: [(imageID: String, probabilities: String)], error: String?) throws {
    try finishRun(id, status: RunStatus(rawValue: outcome.rawValue)!, validationMetric: validationMetric, testMetric: testMetric,
                  metrics: metrics, confusion: confusion.map { ["test": $0] } ?? [:],
                  predictions: predictions.map { (subset: "unlabelled", imageID: $0.imageID, probabilities: $0.probabilities) }, error: error)
  }

  public func finishedMetrics(sweep: Int64, epoch: Int) throws -> [Double] {
    try database.read { db in
      try Double.fetchAll(db, sql: """
        SELECT epochs.val_metric FROM epochs JOIN runs ON runs.id = epochs.run_id
        WHERE runs.sweep_id = ? AND runs.status = 'done' AND epochs.epoch = ?
        """, arguments: [sweep, epoch])
    }
  }
}
