import Foundation
import GRDB
import Sweeps

/// Folding the shards of a scheduler's tasks into the main store.
///
/// Idempotent: merging a shard twice changes nothing the second time. A run takes the
/// shard's state when it is further along there (finished beats failed beats running beats
/// queued; between two running copies, more epochs win), so a run present in several shards
/// keeps its finished attempt; every attempt of every shard is kept, once.
extension ResultsStore {
  /// What a merge did.
  public struct MergeSummary: Sendable, Equatable {
    public var shards = 0
    /// Runs whose state in the main store changed.
    public var runsUpdated = 0
    /// Attempts new to the main store.
    public var attemptsAdded = 0
    /// One line per shard that could not be read this time (it is tried again next time).
    public var skipped: [String] = []

    public init(shards: Int = 0, runsUpdated: Int = 0, attemptsAdded: Int = 0, skipped: [String] = []) {
      (self.shards, self.runsUpdated, self.attemptsAdded, self.skipped) = (shards, runsUpdated, attemptsAdded, skipped)
    }
  }

  /// Remembers that `folder` holds shards of `sweep`, so that every later command that
  /// reads the sweep merges them first.
  public func recordShardFolder(_ folder: String, sweep: Int64) throws {
    try write { db in
      try db.execute(sql: "INSERT OR IGNORE INTO shard_folders (sweep_id, path) VALUES (?, ?)", arguments: [sweep, folder])
    }
  }

  /// Merges the shards of every recorded shard folder.
  @discardableResult
  public func mergeRecordedShards() throws -> MergeSummary {
    let folders = try read { db in try String.fetchAll(db, sql: "SELECT DISTINCT path FROM shard_folders ORDER BY path") }
    return try merge(shards: folders.flatMap { ShardLayout.shardFiles(in: URL(fileURLWithPath: $0)) })
  }

  /// Merges the given shard files, one transaction per shard.
  public func merge(shards: [URL]) throws -> MergeSummary {
    var summary = MergeSummary()
    for file in shards {
      let contents: ShardContents
      do { contents = try ShardContents(file) } catch {
        summary.skipped.append("\(file.path): not merged this time: \(error)")
        continue
      }
      let (runs, attempts) = try write { db in try self.fold(contents, db) }
      summary.shards += 1
      summary.runsUpdated += runs
      summary.attemptsAdded += attempts
    }
    return summary
  }

  /// Writes one shard's sweeps, runs and attempts into this store; returns the runs changed
  /// and the attempts added.
  private func fold(_ shard: ShardContents, _ db: Database) throws -> (Int, Int) {
    var (runsUpdated, attemptsAdded) = (0, 0)
    for sweep in shard.sweeps {
      let sweepID = try mainSweep(sweep, shard, db)
      for run in shard.runs where run["sweep_id"] == sweep["id"] as Int64 {
        let runID = try mainRun(run, sweep: sweepID, db)
        if try adoptIfFurther(run, into: runID, shard, db) { runsUpdated += 1 }
        attemptsAdded += try foldAttempts(shard.rows(of: "attempts", run: run["id"]), into: runID, db)
      }
    }
    return (runsUpdated, attemptsAdded)
  }

  /// The main store's id of the shard's sweep (by name), inserted with its split when new.
  private func mainSweep(_ sweep: Row, _ shard: ShardContents, _ db: Database) throws -> Int64 {
    if let id = try Int64.fetchOne(db, sql: "SELECT id FROM sweeps WHERE name = ?", arguments: [sweep["name"] as String]) { return id }
    var split: Int64?
    if let splitRow = shard.splits.first(where: { $0["id"] == sweep["split_id"] as Int64? }),
      let dataset = shard.datasets.first(where: { $0["id"] == splitRow["dataset_id"] as Int64 })
    {
      try db.execute(sql: """
        INSERT INTO datasets (adapter, root, options, name, class_names) VALUES (?, ?, ?, ?, ?) ON CONFLICT (adapter, root, options) DO NOTHING
        """, arguments: [dataset["adapter"], dataset["root"], dataset["options"], dataset["name"], dataset["class_names"]])
      let datasetID = try Int64.fetchOne(db, sql: "SELECT id FROM datasets WHERE adapter = ? AND root = ? AND options = ?",
                                         arguments: [dataset["adapter"], dataset["root"], dataset["options"]])!
      split = try insertSplit(dataset: datasetID, spec: splitRow["spec"], seed: splitRow["seed"], assignments: splitRow["assignments"], db)
    }
    try db.execute(sql: "INSERT INTO sweeps (name, spec, metric, split_id, created_at) VALUES (?, ?, ?, ?, ?)",
                   arguments: [sweep["name"], sweep["spec"], sweep["metric"], split, sweep["created_at"]])
    return db.lastInsertedRowID
  }

  /// The main store's id of the shard's run (by sweep and parameters), planned when new.
  private func mainRun(_ run: Row, sweep: Int64, _ db: Database) throws -> Int64 {
    let key: StatementArguments = [sweep, run["backbone"], run["strategy"], run["params"]]
    let find = "SELECT id FROM runs WHERE sweep_id = ? AND backbone = ? AND strategy = ? AND params = ?"
    if let id = try Int64.fetchOne(db, sql: find, arguments: key) { return id }
    try db.execute(sql: "INSERT INTO runs (sweep_id, status, backbone, strategy, params) VALUES (?, 'queued', ?, ?, ?)", arguments: key)
    return db.lastInsertedRowID
  }

  /// How far along a status is: finished beats failed beats running beats queued.
  private static func progress(_ status: String) -> Int {
    switch RunStatus(rawValue: status) {
    case .done, .pruned: 4
    case .failed: 3
    case .running: 2
    default: 1
    }
  }

  /// Replaces the main run's state and results with the shard's when the shard is further
  /// along; returns whether it did.
  private func adoptIfFurther(_ run: Row, into id: Int64, _ shard: ShardContents, _ db: Database) throws -> Bool {
    let main = try Row.fetchOne(db, sql: "SELECT status, (SELECT COUNT(*) FROM epochs WHERE run_id = ?) AS epochs FROM runs WHERE id = ?",
                                arguments: [id, id])!
    let (mine, theirs) = (Self.progress(main["status"]), Self.progress(run["status"]))
    let shardEpochs = shard.rows(of: "epochs", run: run["id"])
    let moreEpochs = theirs == mine && mine <= 2 && shardEpochs.count > main["epochs"] as Int
    guard theirs > mine || moreEpochs else { return false }
    // A shard written by an older Podium lacks the newer columns: those merge as NULL.
    let columns = ["status", "val_metric", "test_metric", "val_metric_plain", "test_metric_plain", "val_metric_unaveraged", "metrics", "error", "started_at", "finished_at", "podium_version", "machine",
                   "lease_owner", "lease_expires_at"]
    try db.execute(sql: "UPDATE runs SET \(columns.map { "\($0) = ?" }.joined(separator: ", ")) WHERE id = ?",
                   arguments: StatementArguments(columns.map { run.hasColumn($0) ? run[$0] as DatabaseValue : .null } + [id.databaseValue]))
    for table in ["epochs", "predictions", "confusion", "artifacts"] {
      try db.execute(sql: "DELETE FROM \(table) WHERE run_id = ?", arguments: [id])
      for row in shard.rows(of: table, run: run["id"]) { try insert(row, into: table, run: id, db) }
    }
    return true
  }

  /// Adds the shard's attempts at a run (an attempt is known by its claim token) and brings
  /// known ones up to date; returns how many were new.
  private func foldAttempts(_ attempts: [Row], into run: Int64, _ db: Database) throws -> Int {
    var added = 0
    for attempt in attempts {
      try db.execute(sql: "UPDATE attempts SET heartbeat_at = ?, ended_at = ?, outcome = ?, error = ? WHERE owner = ?",
                     arguments: [attempt["heartbeat_at"], attempt["ended_at"], attempt["outcome"], attempt["error"], attempt["owner"]])
      guard db.changesCount == 0 else { continue }
      var row = Dictionary(uniqueKeysWithValues: attempt.columnNames.map { ($0, attempt[$0] as DatabaseValue) })
      row["attempt"] = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(attempt), 0) + 1 FROM attempts WHERE run_id = ?",
                                          arguments: [run])!.databaseValue
      try insert(row, into: "attempts", run: run, db)
      added += 1
    }
    try db.execute(sql: "UPDATE runs SET attempts = (SELECT COUNT(*) FROM attempts WHERE run_id = ?) WHERE id = ?", arguments: [run, run])
    return added
  }

  private func insert(_ row: Row, into table: String, run: Int64, _ db: Database) throws {
    try insert(Dictionary(uniqueKeysWithValues: row.columnNames.map { ($0, row[$0] as DatabaseValue) }), into: table, run: run, db)
  }

  /// Inserts `values` into `table` with `run_id` replaced by the main store's run.
  private func insert(_ values: [String: DatabaseValue], into table: String, run: Int64, _ db: Database) throws {
    var values = values
    values["run_id"] = run.databaseValue
    let columns = values.keys.sorted()
    try db.execute(sql: "INSERT OR REPLACE INTO \(table) (\(columns.joined(separator: ", "))) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))",
                   arguments: StatementArguments(columns.map { values[$0]! }))
  }
}

/// Everything a shard holds, read in one read-only transaction (so a task writing it at the
/// same time is seen before or after its write, never half-way).
private struct ShardContents {
  var sweeps: [Row] = [], runs: [Row] = [], splits: [Row] = [], datasets: [Row] = []
  private var byRun: [String: [Int64: [Row]]] = [:]

  private init() {}

  init(_ file: URL) throws {
    guard FileManager.default.fileExists(atPath: file.path) else { throw StoreError(path: file.path, message: "no such shard") }
    var configuration = Configuration()
    configuration.readonly = true
    configuration.busyMode = .timeout(ResultsStore.busyTimeout)
    let queue = try DatabaseQueue(path: file.path, configuration: configuration)
    defer { try? queue.close() }
    self = try queue.read { db in
      var contents = ShardContents()
      contents.sweeps = try Row.fetchAll(db, sql: "SELECT * FROM sweeps")
      contents.runs = try Row.fetchAll(db, sql: "SELECT * FROM runs ORDER BY id")
      contents.splits = try Row.fetchAll(db, sql: "SELECT * FROM splits")
      contents.datasets = try Row.fetchAll(db, sql: "SELECT * FROM datasets")
      for table in ["epochs", "predictions", "confusion", "artifacts", "attempts"] {
        let order = table == "attempts" ? "attempt" : "rowid"
        contents.byRun[table] = Dictionary(grouping: try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY run_id, \(order)")) {
          $0["run_id"] as Int64
        }
      }
      return contents
    }
  }

  func rows(of table: String, run: Int64) -> [Row] { byRun[table]?[run] ?? [] }
}
