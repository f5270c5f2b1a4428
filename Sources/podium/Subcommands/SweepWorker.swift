import ArgumentParser
import Engine
import Foundation
import ResultsStore
import Sweeps

extension Podium.Sweep {
  /// `podium sweep worker (SPEC.yaml | --sweep ID) [--task I]`.
  struct Worker: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Claim and run a sweep's runs one at a time until none is left, then exit 0.",
      discussion: """
        Start as many as you like, on one database on a local disk: each run is claimed by exactly one worker, renewed \
        by a heartbeat while it trains, and taken over (resuming from its last epoch) when its worker dies. With --task I \
        (a Slurm array task or a Kubernetes index) the worker runs run I of the plan alone, into its own shard \
        <work>/<sweep>/shards/task-I.sqlite, which `podium sweep merge` folds into the main database.
        """)

    @Argument(help: "The sweep spec (YAML); or give --sweep.") var spec: String?
    @Option(help: "The id or name of a sweep already planned in the database.") var sweep: String?
    @OptionGroup var store: SweepStoreOptions
    @Option(help: "Run only entry I of the plan (0-based), into the task's own shard.") var task: Int?
    @Option(help: "Threads for this worker's kernels (default: all cores, or PODIUM_THREADS).") var threads: Int?
    @Option(help: "Put before every progress line.") var logPrefix = ""
    @OptionGroup var lease: LeaseOptions

    func validate() throws {
      guard (spec == nil) != (sweep == nil) else { throw ValidationError("give a spec file or --sweep ID, not both and not neither") }
      if task != nil && spec == nil { throw ValidationError("--task needs the spec file: its tasks do not read the main database") }
      if let task, task < 0 { throw ValidationError("--task must be 0 or more, got \(task)") }
      if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    func run() throws {
      setvbuf(stdout, nil, _IOLBF, 0)  // whole lines, when several workers share one terminal or log
      if let threads { Parallel.threadCount = threads }
      let log: (String) -> Void = { printToStandardError(logPrefix + $0) }
      let (parsed, text) = try specAndText()
      if let task {
        let shard = try ResultsStore.shard(at: ShardLayout(work: store.work, sweep: parsed.name).shard(task: task).path)
        let runner = try makeRunner(parsed, text, sink: shard, store: store, lease: lease, prefix: logPrefix)
        let outcome = try runner.runTask(task, of: try runner.plan(task: task, log: log), log: log)
        print("task \(task) of sweep \(parsed.name): \(outcome?.rawValue ?? "nothing to do")")
        return
      }
      let runner = try makeRunner(parsed, text, sink: try ResultsStore(path: store.db), store: store, lease: lease, prefix: logPrefix)
      let (done, failed) = try runner.work(try runner.plan(log: log), log: log)
      print("\(logPrefix)worker \(runner.worker.host) process \(runner.worker.processID): \(done) runs finished, \(failed) failed; nothing left to claim")
    }

    /// The spec from its file, or as stored with the sweep.
    private func specAndText() throws -> (SweepSpec, String) {
      if let spec { return try readSpec(spec) }
      let stored = try ResultsStore.existing(at: store.db)
      guard let found = try stored.sweeps().first(where: { "\($0.id)" == sweep || $0.name == sweep }) else {
        throw ValidationError("no sweep \(sweep ?? "") in \(store.db); `podium sweep status` lists them")
      }
      return (try SweepSpec.parse(found.spec, file: "sweep \(found.name) in \(store.db)"), found.spec)
    }
  }
}

/// Starts worker processes of this executable for `sweep run --workers N` and waits for them.
struct WorkerProcesses {
  var count: Int
  var sweep: String
  var store: SweepStoreOptions
  var lease: LeaseOptions

  /// Runs the workers, each with its share of the cores, and returns their exit statuses.
  func runAndWait() throws -> [Int32] {
    let threads = max(1, Parallel.threadCount / count)
    let processes = try (1...count).map { index -> Process in
      let process = Process()
      process.executableURL = URL(fileURLWithPath: currentExecutable())
      process.arguments = ["sweep", "worker", "--sweep", sweep, "--db", store.db, "--work", store.work, "--threads", "\(threads)",
                           "--log-prefix", "[worker \(index)] "] + lease.arguments
      try process.run()
      return process
    }
    printToStandardError("started \(count) workers with \(threads) threads each")
    for process in processes { process.waitUntilExit() }
    return processes.map(\.terminationStatus)
  }
}
