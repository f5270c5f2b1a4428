import ArgumentParser
import Engine
import Foundation
import ResultsStore
import Sweeps

extension Podium.Sweep {
  /// `podium sweep slurm SPEC.yaml [--submit]`.
  struct Slurm: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Plan a sweep and write (or submit) a Slurm job array that runs one array task per unfinished run.",
      discussion: """
        The work folder must be shared by every node. Each task writes its own shard store there (SQLite is never \
        written by two machines at once); `podium sweep merge` folds the shards into --db, and `sweep status`, `report`, \
        `leaderboard` and `submit` merge first. Running this again after the array ended submits only the runs that \
        are still unfinished.
        """)

    @Argument(help: "The sweep spec (YAML).") var spec: String
    @OptionGroup var store: SweepStoreOptions
    @Option(help: "At most this many array tasks at once (%K).") var maxParallel: Int?
    @Option(help: "Cores per task (the worker's threads).") var cpusPerTask = 1
    @Option(help: "The Slurm partition.") var partition: String?
    @Option(help: "Slurm's time limit per task, e.g. 02:00:00.") var time: String?
    @Option(help: "The podium executable as the compute nodes see it (default: this one).") var podium: String?
    @Flag(help: "Submit the script with sbatch (otherwise only write and print it).") var submit = false
    @OptionGroup var lease: LeaseOptions

    func validate() throws {
      if let maxParallel, maxParallel < 1 { throw ValidationError("--max-parallel must be at least 1, got \(maxParallel)") }
      guard cpusPerTask >= 1 else { throw ValidationError("--cpus-per-task must be at least 1, got \(cpusPerTask)") }
    }

    func run() throws {
      let cluster = try ClusterSweep(spec: spec, store: store, lease: lease)
      guard !cluster.tasks.isEmpty else {
        print("sweep \(cluster.name): every run is finished; nothing to submit")
        return
      }
      let script = SlurmArrayScript(
        sweep: cluster.name, tasks: cluster.tasks, podium: podium ?? currentExecutable(), layout: cluster.layout,
        work: cluster.work, maxParallel: maxParallel, cpusPerTask: cpusPerTask, partition: partition, time: time,
        leaseArguments: lease.arguments, workerStarts: lease.maxAttempts)
      let file = cluster.layout.folder.appendingPathComponent("sweep.sbatch")
      try AtomicFile.write(Data(script.text.utf8), to: file)
      print(script.text)
      printToStandardError("wrote \(file.path): \(cluster.tasks.count) array tasks (--array=\(script.arraySpec))")
      if submit { try sbatch(file) }
    }

    private func sbatch(_ file: URL) throws {
      let process = Process()
      process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      process.arguments = ["sbatch", "--parsable", file.path]
      let output = Pipe()
      process.standardOutput = output
      do { try process.run() } catch { throw ValidationError("cannot run sbatch: \(error)") }
      let job = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        .trimmingCharacters(in: .whitespacesAndNewlines)
      process.waitUntilExit()
      guard process.terminationStatus == 0 else { throw ValidationError("sbatch \(file.path) failed with status \(process.terminationStatus)") }
      print("submitted Slurm job \(job)")
    }
  }

  /// `podium sweep k8s SPEC.yaml --image IMAGE --volume CLAIM`.
  struct Kubernetes: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "k8s",
      abstract: "Write a Kubernetes Indexed Job manifest that runs one pod per planned run against shards on a volume.",
      discussion: """
        The dataset root in the spec must be the path the pods see (on the volume, or in the image). Apply the manifest \
        with `kubectl apply -f`; when the Job is complete, `podium sweep merge --db DB --shards <volume>/runs/<sweep>/shards`.
        """)

    @Argument(help: "The sweep spec (YAML).") var spec: String
    @Option(help: "The container image with podium on its PATH.") var image: String
    @Option(help: "The PersistentVolumeClaim for the work folder.") var volume: String
    @Option(help: "Where the pods mount the volume.") var mount = "/podium"
    @Option(help: "Pods at once.") var parallelism = 4
    @Option(help: "Cores per pod (the worker's threads).") var cpus = 1
    @Option(help: "The database the sweep is planned in.") var db = "podium.sqlite"
    @Option(help: "Write the manifest here (default: standard output).") var out: String?
    @OptionGroup var lease: LeaseOptions

    func validate() throws {
      guard parallelism >= 1, cpus >= 1 else { throw ValidationError("--parallelism and --cpus must be at least 1") }
    }

    func run() throws {
      let (parsed, text) = try readSpec(spec)
      let (runs, _) = try parsed.expand()
      let job = KubernetesIndexedJob(
        sweep: parsed.name, specText: text, runs: runs.count, image: image, volumeClaim: volume, mountPath: mount,
        parallelism: parallelism, cpusPerPod: cpus, backoffLimitPerIndex: lease.maxAttempts - 1, leaseArguments: lease.arguments)
      if let out {
        try AtomicFile.write(Data(job.text.utf8), to: URL(fileURLWithPath: out))
        printToStandardError("wrote \(out): Job \(job.objectName), \(runs.count) indexes")
      } else {
        print(job.text, terminator: "")
      }
    }
  }
}

/// A sweep planned for a scheduler: planned in the main store (whose recorded shards are
/// merged first), its spec copied into the shared work folder, and the plan indices of the
/// runs that are not finished.
struct ClusterSweep {
  var name: String
  var layout: ShardLayout
  var work: String
  var tasks: [Int]

  init(spec path: String, store options: SweepStoreOptions, lease: LeaseOptions) throws {
    let (spec, text) = try readSpec(path)
    work = URL(fileURLWithPath: options.work).standardizedFileURL.path
    name = spec.name
    layout = ShardLayout(work: work, sweep: spec.name)
    let store = try ResultsStore(path: options.db)
    let runner = try makeRunner(spec, text, sink: store, store: options, lease: lease)
    let plan = try runner.plan { printToStandardError($0) }
    for folder in [layout.shards, layout.logs] { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
    try AtomicFile.write(Data(text.utf8), to: layout.spec)
    try store.recordShardFolder(layout.shards.path, sweep: plan.sweep)
    for line in try store.mergeRecordedShards().skipped { printToStandardError(line) }
    let open = Set(try store.runs(sweep: plan.sweep).filter { $0.status.isOpen }.compactMap(\.spec).map { try $0.canonicalJSON() })
    tasks = try plan.runs.indices.filter { open.contains(try plan.runs[$0].canonicalJSON()) }
  }
}

/// This executable's absolute path.
func currentExecutable() -> String {
  URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
}
