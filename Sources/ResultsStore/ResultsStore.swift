import Datasets
import Engine
import Foundation
import GRDB
import Sweeps
import Training

/// Podium's results database: SQLite through GRDB, in WAL mode, with versioned migrations.
///
/// Tables (names fixed so other tools can query them): `datasets`, `splits`, `sweeps`,
/// `runs` (status queued / running / done / failed / pruned, hyperparameters as canonical
/// JSON in `params`, the sweep metric on the best epoch in `val_metric` and `test_metric`
/// (and without test-time augmentation in `val_metric_plain`, `test_metric_plain`; the
/// trained weights' own best validation metric of a run that averages weights in `val_metric_unaveraged`),
/// every final metric as JSON in `metrics`), `epochs`, `predictions`, `confusion` and
/// `artifacts`; `attempts` (every claim of a run by a worker) and `shard_folders` (where a
/// scheduler's tasks keep their stores). Every write is one transaction, so a killed process leaves either the whole
/// change or none of it.
public final class ResultsStore {
  let database: any DatabaseWriter

  /// How long a write waits for another process's transaction (a sweep writing while
  /// `podium sweep status` or `report` opens the file) before failing.
  static let busyTimeout: TimeInterval = 10

  /// Opens (creating it, and its folder, and migrating as needed) the database at `path`.
  ///
  /// - Throws: ``StoreError`` naming the file.
  public init(path: String) throws {
    do {
      try FileManager.default.createDirectory(at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true)
      database = try Self.openMigrated(path) { try DatabasePool(path: $0, configuration: $1) }
    } catch {
      throw StoreError(path: path, message: "\(error)")
    }
  }

  /// Opens (creating as needed) a scheduler task's shard: the same schema, in SQLite's
  /// rollback-journal mode instead of WAL, because WAL needs memory shared between the
  /// processes of one host and a shard lives on a network file system. Only its own task
  /// writes it; `podium sweep merge` reads it.
  ///
  /// - Throws: ``StoreError`` naming the file.
  public static func shard(at path: String) throws -> ResultsStore {
    do {
      try FileManager.default.createDirectory(at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true)
      return ResultsStore(database: try openMigrated(path) { try DatabaseQueue(path: $0, configuration: $1) })
    } catch {
      throw StoreError(path: path, message: "\(error)")
    }
  }

  private init(database: any DatabaseWriter) {
    self.database = database
  }

  /// Opens a database that must already exist (for commands that read results): a missing
  /// file is one line saying how to make one, not a new empty database.
  ///
  /// - Throws: ``StoreError`` naming the file.
  public static func existing(at path: String) throws -> ResultsStore {
    guard FileManager.default.fileExists(atPath: path) else {
      throw StoreError(path: path, message: "no results database here: run `podium sweep run SPEC.yaml` or `podium demo` first")
    }
    return try ResultsStore(path: path)
  }

  /// The pool on `path` with every migration applied. Two processes creating the same new
  /// file at once (a sweep starting while `sweep status` looks) can collide where SQLite
  /// does not wait — switching the file to WAL, or GRDB reading which migrations are applied
  /// before it takes the write lock — so opening is tried a few times, with growing pauses,
  /// before an error counts.
  private static func openMigrated(_ path: String, _ open: (String, Configuration) throws -> any DatabaseWriter) throws
    -> any DatabaseWriter
  {
    var configuration = Configuration()
    configuration.busyMode = .timeout(busyTimeout)
    var attempt = 0
    while true {
      do {
        let database = try open(path, configuration)
        try migrator.migrate(database)
        return database
      } catch where attempt < 4 {
        attempt += 1
        usleep(UInt32(50_000 * attempt))
      }
    }
  }

  // MARK: - Writes

  /// The id of the sweep called `name`, inserting it (with its dataset, its split and its
  /// planned runs as `queued`, in one transaction) when it is new. Runs already planned are
  /// kept as they are, so planning the same sweep again neither loses nor duplicates a run.
  public func planSweep(name: String, spec: String, metric: MetricName, dataset: DatasetRecord, runs: [RunSpec]) throws -> Int64 {
    let rows = try runs.map { ($0.backbone.rawValue, $0.strategy.rawValue, try $0.canonicalJSON()) }
    return try write { db in
      let split = try self.insertSplit(dataset, db)
      if let id = try Int64.fetchOne(db, sql: "SELECT id FROM sweeps WHERE name = ?", arguments: [name]) {
        try db.execute(sql: "UPDATE sweeps SET split_id = COALESCE(split_id, ?) WHERE id = ?", arguments: [split, id])
        try self.insertRuns(rows, sweep: id, db)
        return id
      }
      try db.execute(sql: "INSERT INTO sweeps (name, spec, metric, split_id, created_at) VALUES (?, ?, ?, ?, ?)",
                     arguments: [name, spec, metric.rawValue, split, Date()])
      let id = db.lastInsertedRowID
      try self.insertRuns(rows, sweep: id, db)
      return id
    }
  }

  /// The id of the dataset row (updating its name and classes) and of its split, inserted
  /// when new; a split is identified by the digest of its assignments.
  private func insertSplit(_ dataset: DatasetRecord, _ db: Database) throws -> Int64 {
    let options = try Self.json(dataset.options), classes = try Self.json(dataset.classNames)
    try db.execute(sql: """
      INSERT INTO datasets (adapter, root, options, name, class_names) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (adapter, root, options) DO UPDATE SET name = excluded.name, class_names = excluded.class_names
      """, arguments: [dataset.adapter, dataset.root, options, dataset.name, classes])
    let datasetID = try Int64.fetchOne(db, sql: "SELECT id FROM datasets WHERE adapter = ? AND root = ? AND options = ?",
                                       arguments: [dataset.adapter, dataset.root, options])!
    let assignments = try Self.json(dataset.assignments.map { [$0.path, $0.subset.rawValue, String($0.label)] + ($0.fold.map { [String($0)] } ?? []) })
    return try insertSplit(dataset: datasetID, spec: dataset.split, seed: Int64(bitPattern: dataset.seed), assignments: assignments, db)
  }

  /// The id of the split, inserted when new; a split is identified by the digest of its
  /// dataset, spec, seed and assignments.
  func insertSplit(dataset: Int64, spec: String, seed: Int64, assignments: String, _ db: Database) throws -> Int64 {
    let fingerprint = SHA256Digest.hex(of: "\(dataset)\n\(spec)\n\(UInt64(bitPattern: seed))\n\(assignments)")
    try db.execute(sql: "INSERT OR IGNORE INTO splits (dataset_id, spec, seed, assignments, fingerprint) VALUES (?, ?, ?, ?, ?)",
                   arguments: [dataset, spec, seed, assignments, fingerprint])
    return try Int64.fetchOne(db, sql: "SELECT id FROM splits WHERE fingerprint = ?", arguments: [fingerprint])!
  }

  private func insertRuns(_ runs: [(backbone: String, strategy: String, params: String)], sweep: Int64, _ db: Database) throws {
    for run in runs {
      try db.execute(
        sql: "INSERT OR IGNORE INTO runs (sweep_id, status, backbone, strategy, params) VALUES (?, 'queued', ?, ?, ?)",
        arguments: [sweep, run.backbone, run.strategy, run.params])
    }
  }

  /// Canonical JSON (sorted keys), as stored.
  static func json<T: Encodable>(_ value: T) throws -> String {
    try CanonicalJSON.string(value)
  }

  /// Records one finished epoch of a run without a claim (for imports and test fixtures;
  /// workers record through ``recordEpoch(_:_:)`` with their claim).
  public func recordEpoch(run: Int64, _ epoch: EpochRecord) throws {
    try write { db in try self.insertEpoch(run: run, epoch, db) }
  }

  /// One epoch's row, replacing a row of the same epoch from an interrupted attempt.
  func insertEpoch(run: Int64, _ epoch: EpochRecord, _ db: Database) throws {
    try db.execute(
      sql: "INSERT OR REPLACE INTO epochs (run_id, epoch, train_loss, train_metric, val_loss, val_metric, seconds) VALUES (?, ?, ?, ?, ?, ?, ?)",
      arguments: [run, epoch.epoch, epoch.trainLoss, epoch.trainMetric, epoch.validationLoss, epoch.validationMetric, epoch.seconds])
  }

  /// Finishes a run without a claim (for imports and test fixtures; workers finish through
  /// ``completeRun(_:_:)``): its status, metrics, confusion matrices, predictions and
  /// artefacts, all in one transaction.
  public func finishRun(_ id: Int64, _ completion: RunCompletion) throws {
    let prepared = try PreparedCompletion(completion)
    try write { db in try self.writeCompletion(id, prepared, db) }
  }

  /// A completion turned into the text its columns hold, before the transaction opens.
  struct PreparedCompletion {
    var completion: RunCompletion
    var predictions: [(PredictionRecord, String)]
    var metrics: String?
    var confusion: [(String, String)]

    init(_ completion: RunCompletion) throws {
      self.completion = completion
      predictions = try completion.predictions.map { ($0, try ResultsStore.json($0.probabilities)) }
      metrics = try completion.metrics.map { try JSONEncoder().encode($0) }.map { String(decoding: $0, as: UTF8.self) }
      confusion = try completion.confusion.map { ($0.key.rawValue, try ResultsStore.json($0.value)) }
    }
  }

  func writeCompletion(_ id: Int64, _ prepared: PreparedCompletion, _ db: Database) throws {
    let completion = prepared.completion
    try db.execute(
      sql: """
        UPDATE runs SET status = ?, val_metric = ?, test_metric = ?, val_metric_plain = ?, test_metric_plain = ?, val_metric_unaveraged = ?,
          metrics = ?, error = ?, finished_at = ?, lease_owner = NULL, lease_expires_at = NULL WHERE id = ?
        """,
      arguments: [completion.outcome.rawValue, completion.validationMetric, completion.testMetric, completion.plainValidationMetric,
                  completion.plainTestMetric, completion.unaveragedValidationMetric, prepared.metrics, completion.error, Date(), id])
    for (subset, matrix) in prepared.confusion {
      try db.execute(sql: "INSERT OR REPLACE INTO confusion (run_id, subset, matrix) VALUES (?, ?, ?)", arguments: [id, subset, matrix])
    }
    let insert = try db.makeStatement(sql: """
      INSERT OR REPLACE INTO predictions (run_id, subset, image_id, path, label, probabilities) VALUES (?, ?, ?, ?, ?, ?)
      """)
    for (record, probabilities) in prepared.predictions {
      try insert.execute(arguments: [id, record.subset.rawValue, record.imageID, record.path, record.label, probabilities])
    }
    for (kind, path) in completion.artifacts {
      try db.execute(sql: "INSERT OR REPLACE INTO artifacts (run_id, kind, path) VALUES (?, ?, ?)", arguments: [id, kind.rawValue, path])
    }
  }

  // MARK: - Reads

  /// Runs of a sweep that still need work (queued, or running when a process died), in plan order.
  ///
  /// - Throws: ``StoreError`` when a run's stored parameters are not a run spec.
  public func unfinishedRuns(sweep: Int64) throws -> [(id: Int64, spec: RunSpec)] {
    let rows = try read { db in
      try Row.fetchAll(db, sql: "SELECT id, params FROM runs WHERE sweep_id = ? AND status IN ('queued', 'running') ORDER BY id",
                       arguments: [sweep]).map { (id: $0["id"] as Int64, params: $0["params"] as String) }
    }
    return try rows.map { row in
      do {
        return (row.id, try JSONDecoder().decode(RunSpec.self, from: Data(row.params.utf8)))
      } catch {
        throw StoreError(path: database.path, message: "run \(row.id) has unreadable parameters \(row.params): \(error)")
      }
    }
  }

  /// Run counts by status for a sweep.
  public func statusCounts(sweep: Int64) throws -> [RunStatus: Int] {
    try read { db in
      var counts: [RunStatus: Int] = [:]
      for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM runs WHERE sweep_id = ? GROUP BY status", arguments: [sweep]) {
        if let status = RunStatus(rawValue: row["status"]) { counts[status] = row["n"] }
      }
      return counts
    }
  }

  /// The epochs recorded for a run, in order: `(epoch, val_metric)`.
  public func epochs(run: Int64) throws -> [(epoch: Int, validationMetric: Double)] {
    try read { db in
      try Row.fetchAll(db, sql: "SELECT epoch, val_metric FROM epochs WHERE run_id = ? ORDER BY epoch", arguments: [run])
        .map { ($0["epoch"], $0["val_metric"]) }
    }
  }

  /// One sweep's progress, for `podium sweep status`.
  public struct SweepSummary: Encodable {
    public var id: Int64
    public var name: String
    public var metric: String
    /// Runs by status name (`done`, `queued`, ...), as `--json` prints them.
    public var counts: [String: Int]
    public var bestRun: Int64?
    public var bestMetric: Double?
    /// Estimated seconds to finish the queued and running runs: their count times the mean
    /// duration of the finished ones (nil before any run finished, and once none is left).
    public var etaSeconds: Double?
  }

  /// Every sweep with its run counts by status and its best finished run by validation metric.
  public func sweepSummaries() throws -> [SweepSummary] {
    try read { db in
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
        let remaining = RunStatus.allCases.filter(\.isOpen).map { counts[$0.rawValue] ?? 0 }.reduce(0, +)
        return SweepSummary(id: id, name: sweep["name"], metric: metric, counts: counts, bestRun: best?["id"], bestMetric: best?["val_metric"],
                            etaSeconds: remaining == 0 ? nil : meanSeconds.map { $0 * Double(remaining) })
      }
    }
  }

  /// Number of stored predictions (all runs), of one subset when given.
  public func predictionCount(subset: Subset? = nil) throws -> Int {
    try read { db in
      guard let subset else { return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM predictions") ?? 0 }
      return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM predictions WHERE subset = ?", arguments: [subset.rawValue]) ?? 0
    }
  }

  /// The names of the tables, for checks.
  public func tableNames() throws -> [String] {
    try read { db in
      try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'grdb_%' ORDER BY name")
    }
  }

  func write<T>(_ body: @escaping (Database) throws -> T) throws -> T {
    do { return try database.write(body) } catch let error as DatabaseError {
      throw StoreError(path: database.path, message: "\(error)")
    }
  }

  func read<T>(_ body: @escaping (Database) throws -> T) throws -> T {
    do { return try database.read(body) } catch let error as DatabaseError {
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
