import ArgumentParser
import Engine
import Foundation
import ResultsStore
import Sweeps
import Training

extension Podium {
  /// `podium sweep run | worker | status | slurm | k8s | merge`.
  struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Run a sweep from a YAML spec (resuming where it stopped), on one machine or a cluster, and show its progress.",
      subcommands: [Run.self, Worker.self, Status.self, Slurm.self, Kubernetes.self, Merge.self])

    /// `podium sweep run SPEC.yaml [--workers N]`.
    struct Run: ParsableCommand {
      static let configuration = CommandConfiguration(
        abstract: "Plan every run of the spec, then run what is not done; running it again after a crash resumes.",
        discussion: """
          With --workers N, N worker processes share the runs (each claims one run at a time) and the cores (threads per \
          worker: cores / N). Any number of `sweep run` and `sweep worker` commands may work on one database at once: \
          each run is done exactly once.
          """)

      @Argument(help: "The sweep spec (YAML).") var spec: String
      @OptionGroup var store: SweepStoreOptions
      @Option(help: "Worker processes to start on this machine.") var workers = 1
      @OptionGroup var lease: LeaseOptions

      func validate() throws {
        guard workers >= 1 else { throw ValidationError("--workers must be at least 1, got \(workers)") }
      }

      func run() throws {
        let (parsed, text) = try readSpec(spec)
        let runner = try makeRunner(parsed, text, sink: try ResultsStore(path: store.db), store: store, lease: lease)
        let plan = try runner.plan { printToStandardError($0) }
        if workers == 1 {
          let (done, failed) = try runner.work(plan) { printToStandardError($0) }
          print("sweep \(parsed.name): \(done) runs finished, \(failed) failed in this invocation; results in \(store.db)")
          return
        }
        let statuses = try WorkerProcesses(count: workers, sweep: parsed.name, store: store, lease: lease).runAndWait()
        let counts = try ResultsStore(path: store.db).statusCounts(sweep: plan.sweep)
        let summary = RunStatus.summaryOrder.map { "\(counts[$0] ?? 0) \($0.rawValue)" }.joined(separator: ", ")
        print("sweep \(parsed.name): \(summary) after \(workers) workers; results in \(store.db)")
        if let failure = statuses.first(where: { $0 != 0 }) { throw ExitCode(failure) }
      }
    }
  }
}

/// Where a sweep keeps its results and checkpoints.
struct SweepStoreOptions: ParsableArguments {
  @Option(help: "The results database.") var db = "podium.sqlite"
  @Option(help: "Folder for run checkpoints (and, on a cluster, the tasks' shards and logs).") var work = "runs"
}

/// How long a claim lasts without a heartbeat, how often workers renew it, how many attempts a run gets.
struct LeaseOptions: ParsableArguments {
  @Option(help: "Seconds a worker's claim on a run lasts without a heartbeat (a worker stopped longer loses its run).")
  var lease: Double = LeasePolicy.standard.lease
  @Option(help: "Seconds between a worker's heartbeats (at most a third of --lease).")
  var heartbeat: Double = LeasePolicy.standard.heartbeat
  @Option(help: "Attempts a run gets before lost workers make it failed.")
  var maxAttempts = LeasePolicy.standard.maxAttempts

  var policy: LeasePolicy { LeasePolicy(lease: lease, heartbeat: heartbeat, maxAttempts: maxAttempts) }

  func validate() throws {
    if let problem = policy.problem { throw ValidationError(problem) }
  }

  /// The same settings as flags, for the commands this one starts.
  var arguments: [String] {
    ["--lease", "\(lease)", "--heartbeat", "\(heartbeat)", "--max-attempts", "\(maxAttempts)"]
  }
}

/// The spec at `path`, parsed, and its text.
func readSpec(_ path: String) throws -> (SweepSpec, String) {
  let text: String
  do { text = try FileContents.text(of: URL(fileURLWithPath: path)) } catch { throw ValidationError("cannot read \(path)") }
  return (try SweepSpec.parse(text, file: path), text)
}

/// A runner for `spec` writing to `sink`, with this Podium's version, the lease settings and
/// a progress printer (its lines prefixed with `prefix`).
func makeRunner(_ spec: SweepSpec, _ text: String, sink: any ResultSink, store: SweepStoreOptions, lease: LeaseOptions,
                prefix: String = "") throws -> SweepRunner {
  let runner = SweepRunner(spec: spec, specText: text, sink: sink, workFolder: URL(fileURLWithPath: store.work))
  runner.worker.version = PodiumVersion.current
  runner.leasePolicy = lease.policy
  let printer = ProgressPrinter(metric: spec.metric)
  printer.prefix = prefix
  runner.observers = [printer.handle]
  return runner
}
