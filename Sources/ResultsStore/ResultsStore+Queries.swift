import Datasets
import Foundation
import GRDB
import Sweeps
import Training

/// Reads for reports, leaderboards and submissions.
extension ResultsStore {
  /// Every sweep, oldest first.
  public func sweeps() throws -> [StoredSweep] {
    try read { db in try Row.fetchAll(db, sql: "SELECT * FROM sweeps ORDER BY id").map(Self.sweep) }
  }

  /// The id of the most recently planned sweep.
  ///
  /// - Throws: ``StoreError`` when the database has no sweep yet.
  public func latestSweepID() throws -> Int64 {
    guard let last = try sweeps().last else { throw StoreError(path: database.path, message: "the results database has no sweep yet") }
    return last.id
  }

  /// The sweep with this id, or nil.
  public func sweep(id: Int64) throws -> StoredSweep? {
    try read { db in try Row.fetchOne(db, sql: "SELECT * FROM sweeps WHERE id = ?", arguments: [id]).map(Self.sweep) }
  }

  /// The dataset and split a sweep ran on (nil for a sweep planned before they were stored).
  public func dataset(ofSweep sweep: Int64) throws -> DatasetRecord? {
    try read { db in
      try Row.fetchOne(db, sql: """
        SELECT datasets.*, splits.spec AS split_spec, splits.seed AS split_seed, splits.assignments
        FROM sweeps JOIN splits ON splits.id = sweeps.split_id JOIN datasets ON datasets.id = splits.dataset_id
        WHERE sweeps.id = ?
        """, arguments: [sweep]).map(Self.dataset)
    }
  }

  /// The names of the datasets that have sweeps, sorted.
  public func datasetNames() throws -> [String] {
    try read { db in
      try String.fetchAll(db, sql: """
        SELECT DISTINCT datasets.name FROM datasets JOIN splits ON splits.dataset_id = datasets.id
        JOIN sweeps ON sweeps.split_id = splits.id ORDER BY datasets.name
        """)
    }
  }

  /// The ids of the sweeps on the dataset called `name`, oldest first.
  public func sweepIDs(dataset name: String) throws -> [Int64] {
    try read { db in
      try Int64.fetchAll(db, sql: """
        SELECT sweeps.id FROM sweeps JOIN splits ON splits.id = sweeps.split_id JOIN datasets ON datasets.id = splits.dataset_id
        WHERE datasets.name = ? ORDER BY sweeps.id
        """, arguments: [name])
    }
  }

  /// A sweep's runs in plan order.
  public func runs(sweep: Int64) throws -> [StoredRun] {
    try read { db in try Row.fetchAll(db, sql: "SELECT * FROM runs WHERE sweep_id = ? ORDER BY id", arguments: [sweep]).map(Self.run) }
  }

  /// The run with this id, or nil.
  public func run(id: Int64) throws -> StoredRun? {
    try read { db in try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id]).map(Self.run) }
  }

  /// A run's learning curve, epoch by epoch.
  public func epochRecords(run: Int64) throws -> [EpochRecord] {
    try read { db in
      try Row.fetchAll(db, sql: "SELECT * FROM epochs WHERE run_id = ? ORDER BY epoch", arguments: [run]).map { row in
        EpochRecord(epoch: row["epoch"], trainLoss: row["train_loss"], trainMetric: row["train_metric"], validationLoss: row["val_loss"],
                    validationMetric: row["val_metric"], seconds: row["seconds"])
      }
    }
  }

  /// A run's confusion matrix on `subset` (`confusion[true][predicted]`), or nil.
  public func confusion(run: Int64, subset: Subset) throws -> [[Int]]? {
    let text = try read { db in
      try String.fetchOne(db, sql: "SELECT matrix FROM confusion WHERE run_id = ? AND subset = ?", arguments: [run, subset.rawValue])
    }
    return try text.map { try JSONDecoder().decode([[Int]].self, from: Data($0.utf8)) }
  }

  /// A run's predictions on `subset`, sorted by image id.
  public func predictions(run: Int64, subset: Subset) throws -> [PredictionRecord] {
    let rows = try read { db in
      try Row.fetchAll(db, sql: "SELECT * FROM predictions WHERE run_id = ? AND subset = ? ORDER BY image_id", arguments: [run, subset.rawValue])
    }
    return try rows.map { row in
      let probabilities = try JSONDecoder().decode([Float].self, from: Data((row["probabilities"] as String).utf8))
      let id: String = row["image_id"]
      return PredictionRecord(subset: subset, imageID: id, path: row["path"] ?? id, label: row["label"], probabilities: probabilities)
    }
  }

  /// A run's files by kind (rows of kinds this version does not know are left out).
  public func artifacts(run: Int64) throws -> [ArtifactKind: String] {
    try read { db in
      Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT kind, path FROM artifacts WHERE run_id = ?", arguments: [run])
        .compactMap { row in ArtifactKind(rawValue: row["kind"]).map { ($0, row["path"] as String) } })
    }
  }

  /// Every attempt at a run, in order: which worker ran it, when, and how it ended.
  public func attempts(run: Int64) throws -> [StoredAttempt] {
    try read { db in
      try Row.fetchAll(db, sql: "SELECT * FROM attempts WHERE run_id = ? ORDER BY attempt", arguments: [run]).map(Self.attempt)
    }
  }

  /// Every attempt at the sweep's runs, by run then attempt.
  public func attempts(sweep: Int64) throws -> [StoredAttempt] {
    try read { db in
      try Row.fetchAll(db, sql: """
        SELECT attempts.* FROM attempts JOIN runs ON runs.id = attempts.run_id WHERE runs.sweep_id = ? ORDER BY run_id, attempt
        """, arguments: [sweep]).map(Self.attempt)
    }
  }

  // MARK: - Rows to records

  private static func attempt(_ row: Row) -> StoredAttempt {
    let scheduler: String? = row["scheduler"]
    return StoredAttempt(
      run: row["run_id"], attempt: row["attempt"], host: row["host"], processID: row["pid"],
      task: scheduler.map { SchedulerTask(scheduler: $0, jobID: row["job_id"], taskID: row["task_id"], restartCount: row["restart_count"]) },
      startedAt: row["started_at"], heartbeatAt: row["heartbeat_at"], endedAt: row["ended_at"],
      outcome: AttemptOutcome(rawValue: row["outcome"]) ?? .running, error: row["error"])
  }

  private static func sweep(_ row: Row) -> StoredSweep {
    StoredSweep(id: row["id"], name: row["name"], spec: row["spec"], metric: MetricName(rawValue: row["metric"]) ?? .accuracy,
                createdAt: row["created_at"])
  }

  private static func dataset(_ row: Row) throws -> DatasetRecord {
    let assignments = try JSONDecoder().decode([[String]].self, from: Data((row["assignments"] as String).utf8))
    return DatasetRecord(
      name: row["name"], adapter: row["adapter"], root: row["root"],
      options: try JSONDecoder().decode([String: String].self, from: Data((row["options"] as String).utf8)),
      classNames: try JSONDecoder().decode([String].self, from: Data((row["class_names"] as String).utf8)),
      split: row["split_spec"], seed: UInt64(bitPattern: row["split_seed"]),
      assignments: assignments.compactMap { fields in
        Subset(rawValue: fields[1]).map {
          Assignment(path: fields[0], subset: $0, label: fields.count > 2 ? Int(fields[2]) ?? 0 : 0, fold: fields.count > 3 ? Int(fields[3]) : nil)
        }
      })
  }

  private static func run(_ row: Row) -> StoredRun {
    let params: String = row["params"]
    let metrics: String? = row["metrics"]
    return StoredRun(
      id: row["id"], sweepID: row["sweep_id"], status: RunStatus(rawValue: row["status"]) ?? .queued, backbone: row["backbone"],
      strategy: row["strategy"], spec: try? JSONDecoder().decode(RunSpec.self, from: Data(params.utf8)),
      validationMetric: row["val_metric"], testMetric: row["test_metric"], plainValidationMetric: row["val_metric_plain"],
      plainTestMetric: row["test_metric_plain"], unaveragedValidationMetric: row["val_metric_unaveraged"],
      metrics: metrics.flatMap { try? JSONDecoder().decode(ClassificationMetrics.self, from: Data($0.utf8)) },
      error: row["error"], startedAt: row["started_at"], finishedAt: row["finished_at"], version: row["podium_version"],
      machine: row["machine"])
  }
}
