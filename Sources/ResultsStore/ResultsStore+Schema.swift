import GRDB

extension ResultsStore {
  /// The schema, one migration per change; GRDB applies the ones a database lacks, in order,
  /// so a database written by an older Podium opens and keeps every row.
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
        t.column("assignments", .text).notNull()  // JSON [[path, subset, label(, fold)], ...]
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
    migrator.registerMigration("Dataset names and classes; labelled predictions") { db in
      try db.alter(table: "datasets") { t in
        t.add(column: "name", .text).notNull().defaults(to: "")
        t.add(column: "class_names", .text).notNull().defaults(to: "[]")
      }
      try db.alter(table: "predictions") { t in
        t.add(column: "path", .text)
        t.add(column: "label", .integer)
      }
    }
    migrator.registerMigration("Run claims, leases and attempts; shard folders") { db in
      try db.alter(table: "runs") { t in
        t.add(column: "lease_owner", .text)
        t.add(column: "lease_expires_at", .double)  // seconds since 1970; NULL: no live lease
        t.add(column: "attempts", .integer).notNull().defaults(to: 0)
      }
      try db.create(table: "attempts") { t in
        t.column("run_id", .integer).notNull().references("runs", onDelete: .cascade)
        t.column("attempt", .integer).notNull()
        t.column("owner", .text).notNull().unique()
        t.column("host", .text).notNull()
        t.column("pid", .integer).notNull()
        t.column("process_start", .integer).notNull()
        t.column("scheduler", .text)
        t.column("job_id", .text)
        t.column("task_id", .text)
        t.column("restart_count", .integer)
        t.column("started_at", .datetime).notNull()
        t.column("heartbeat_at", .datetime).notNull()
        t.column("ended_at", .datetime)
        t.column("outcome", .text).notNull()
        t.column("error", .text)
        t.primaryKey(["run_id", "attempt"])
      }
      try db.create(table: "shard_folders") { t in
        t.column("sweep_id", .integer).notNull().references("sweeps", onDelete: .cascade)
        t.column("path", .text).notNull()
        t.primaryKey(["sweep_id", "path"])
      }
    }
    migrator.registerMigration("Metrics without test-time augmentation") { db in
      try db.alter(table: "runs") { t in
        t.add(column: "val_metric_plain", .double)
        t.add(column: "test_metric_plain", .double)
      }
    }
    migrator.registerMigration("Metrics without weight averaging") { db in
      try db.alter(table: "runs") { t in t.add(column: "val_metric_unaveraged", .double) }
    }
    return migrator
  }
}
