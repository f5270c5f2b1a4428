import Foundation

/// Who is running a run: one worker process, named so that `podium sweep status` and the
/// report can say which machine ran what, and so that a worker on the same host can tell
/// whether the owner of a run is still alive.
public struct WorkerIdentity: Sendable, Equatable {
  public var host: String
  public var processID: Int32
  /// The process's start time in clock ticks since boot (`/proc/PID/stat` field 22), so a
  /// process id reused by another process is not taken for the worker.
  public var processStart: UInt64
  /// The scheduler's names for the task, where there is one.
  public var scheduler: SchedulerTask?
  /// The Podium version the worker runs, stored with each run it claims.
  public var version: String

  public init(host: String, processID: Int32, processStart: UInt64, scheduler: SchedulerTask? = nil, version: String = "unknown") {
    (self.host, self.processID, self.processStart, self.scheduler) = (host, processID, processStart, scheduler)
    self.version = version
  }

  /// This process, with the Slurm or Kubernetes task it runs as (from the environment).
  public static func current(environment: [String: String] = ProcessInfo.processInfo.environment) -> WorkerIdentity {
    let pid = getpid()
    return WorkerIdentity(host: ProcessInfo.processInfo.hostName, processID: pid, processStart: ProcessTable.startTicks(of: pid) ?? 0,
                          scheduler: SchedulerTask(environment: environment))
  }

  /// True unless this identity names a process on `host` that is gone (or whose id now
  /// belongs to a younger process). A worker elsewhere is presumed alive: only its lease
  /// can tell.
  public func isAlive(seenFrom host: String) -> Bool {
    guard self.host == host else { return true }
    return ProcessTable.startTicks(of: processID) == processStart
  }
}

/// A scheduler's task: a Slurm array task or a Kubernetes Indexed Job's pod.
public struct SchedulerTask: Sendable, Equatable {
  /// `slurm` or `kubernetes`.
  public var scheduler: String
  /// `SLURM_ARRAY_JOB_ID`, or the Job's name on Kubernetes.
  public var jobID: String?
  /// `SLURM_ARRAY_TASK_ID` or `JOB_COMPLETION_INDEX`.
  public var taskID: String?
  /// `SLURM_RESTART_COUNT`: how often Slurm requeued the task.
  public var restartCount: Int?

  public init(scheduler: String, jobID: String?, taskID: String?, restartCount: Int?) {
    (self.scheduler, self.jobID, self.taskID, self.restartCount) = (scheduler, jobID, taskID, restartCount)
  }

  /// The task this process runs as, read from the variables Slurm and Kubernetes set; nil
  /// outside either.
  public init?(environment: [String: String]) {
    if let task = environment["SLURM_ARRAY_TASK_ID"] {
      self.init(scheduler: "slurm", jobID: environment["SLURM_ARRAY_JOB_ID"], taskID: task,
                restartCount: environment["SLURM_RESTART_COUNT"].flatMap { Int($0) } ?? 0)
    } else if let index = environment["JOB_COMPLETION_INDEX"] {
      self.init(scheduler: "kubernetes", jobID: environment["PODIUM_JOB_NAME"], taskID: index, restartCount: nil)
    } else {
      return nil
    }
  }
}

/// How long a claim holds a run without news from its worker, how often the worker renews
/// it, and how many attempts a run gets before it counts as failed.
///
/// The heartbeat runs on its own thread, so a long epoch does not delay it; the lease only
/// runs out when the whole worker stops (killed, `SIGSTOP`, swapped out, its machine gone).
/// A dead worker on the same host is recognised at once by its process id; the lease is for
/// the cases where nothing else can tell.
public struct LeasePolicy: Sendable, Equatable {
  /// Seconds a claim stays valid after its last heartbeat.
  public var lease: TimeInterval
  /// Seconds between heartbeats.
  public var heartbeat: TimeInterval
  /// Claims a run gets before a lost worker makes it `failed`.
  public var maxAttempts: Int

  /// Ten minutes of lease, a heartbeat every 30 seconds, three attempts.
  public static let standard = LeasePolicy(lease: 600, heartbeat: 30, maxAttempts: 3)

  public init(lease: TimeInterval, heartbeat: TimeInterval, maxAttempts: Int) {
    (self.lease, self.heartbeat, self.maxAttempts) = (lease, heartbeat, maxAttempts)
  }

  /// What is wrong with these settings (for the flag that set them), or nil: all positive,
  /// and the heartbeat renews the lease at least three times before it can run out.
  public var problem: String? {
    guard lease > 0, heartbeat > 0, maxAttempts >= 1 else {
      return "lease, heartbeat and attempts must be positive (lease \(lease) s, heartbeat \(heartbeat) s, attempts \(maxAttempts))"
    }
    guard heartbeat * 3 <= lease else {
      return "the heartbeat (\(heartbeat) s) must be at most a third of the lease (\(lease) s), or one late heartbeat loses the run"
    }
    return nil
  }
}

/// How one attempt at a run ended.
public enum AttemptOutcome: String, CaseIterable, Sendable {
  /// Still under way (or its worker died and nobody has noticed yet).
  case running
  case done, pruned, failed
  /// Its worker vanished: the lease ran out, or the process was gone; another attempt took over.
  case lost
  /// The scheduler requeued the task (preempted, or its node failed); the task's next attempt took over.
  case requeued
}

/// A run a worker holds: the only handle through which its epochs and its result are
/// recorded.
public struct RunClaim: Sendable {
  public var run: Int64
  public var spec: RunSpecText
  /// 1 for the first claim of the run, 2 after one worker was lost, ...
  public var attempt: Int
  public var worker: WorkerIdentity
  /// Unique to this claim (a UUID): the lease names it, and every write for the run checks
  /// it, so a worker that lost the run cannot record anything more for it.
  public var token: String

  public init(run: Int64, spec: RunSpecText, attempt: Int, worker: WorkerIdentity, token: String) {
    (self.run, self.spec, self.attempt, self.worker, self.token) = (run, spec, attempt, worker, token)
  }
}

/// A run's parameters as stored (canonical JSON), decoded by the runner.
public typealias RunSpecText = String

/// The worker no longer holds the run (its lease ran out and another worker took it): it
/// must stop without recording anything more for it.
public struct LeaseLostError: Error, CustomStringConvertible {
  public var run: Int64
  public var description: String { "run \(run): the lease was lost to another worker; this worker stopped the run" }
  public init(run: Int64) { self.run = run }
}
