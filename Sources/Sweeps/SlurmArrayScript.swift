import Foundation

/// The `sbatch` script of a sweep as a Slurm job array: one array task per planned run, task
/// I running `podium sweep worker SPEC --task I`, which runs run I of the plan into its own
/// shard and resumes from the run's last epoch checkpoint when Slurm requeues the task.
public struct SlurmArrayScript: Sendable {
  /// The sweep's name (the job's name is `podium-<sweep>`).
  public var sweep: String
  /// The plan indices to run: every run at first, the unfinished ones on a resubmission.
  public var tasks: [Int]
  /// The `podium` executable as the compute nodes see it.
  public var podium: String
  public var layout: ShardLayout
  /// The work folder (shared by every node).
  public var work: String
  /// At most this many tasks at once (`%K`); nil: as many as Slurm allows.
  public var maxParallel: Int?
  public var cpusPerTask: Int
  public var partition: String?
  /// Slurm's time limit per task (`--time`, e.g. `02:00:00`).
  public var time: String?
  /// `--lease`, `--heartbeat`, `--max-attempts` for the workers.
  public var leaseArguments: [String]
  /// Times the script starts a worker that was killed before giving up on the task.
  public var workerStarts: Int

  public init(sweep: String, tasks: [Int], podium: String, layout: ShardLayout, work: String, maxParallel: Int?, cpusPerTask: Int,
              partition: String?, time: String?, leaseArguments: [String], workerStarts: Int) {
    (self.sweep, self.tasks, self.podium, self.layout, self.work) = (sweep, tasks, podium, layout, work)
    (self.maxParallel, self.cpusPerTask, self.partition, self.time) = (maxParallel, cpusPerTask, partition, time)
    (self.leaseArguments, self.workerStarts) = (leaseArguments, workerStarts)
  }

  /// The `--array` value: index ranges (`0-23`, `1,4-6`), then `%K`.
  public var arraySpec: String {
    var ranges: [String] = []
    var index = 0
    let sorted = tasks.sorted()
    while index < sorted.count {
      var end = index
      while end + 1 < sorted.count && sorted[end + 1] == sorted[end] + 1 { end += 1 }
      ranges.append(end == index ? "\(sorted[index])" : "\(sorted[index])-\(sorted[end])")
      index = end + 1
    }
    return ranges.joined(separator: ",") + (maxParallel.map { "%\($0)" } ?? "")
  }

  /// The script's text.
  public var text: String {
    var directives = [
      "--job-name=podium-\(sweep)", "--array=\(arraySpec)", "--requeue", "--cpus-per-task=\(cpusPerTask)",
      "--output=\(layout.logs.path)/task-%a.out", "--open-mode=append",
    ]
    if let partition { directives.append("--partition=\(partition)") }
    if let time { directives.append("--time=\(time)") }
    let worker = ([podium, "sweep", "worker", layout.spec.path, "--work", work] .map(shellQuoted)
      + ["--task", "\"$SLURM_ARRAY_TASK_ID\""] + leaseArguments.map(shellQuoted)).joined(separator: " ")
    return """
      #!/bin/bash
      \(directives.map { "#SBATCH \($0)" }.joined(separator: "\n"))
      # Written by `podium sweep slurm` for sweep \(sweep): array task I runs run I of the plan in
      # \(layout.spec.path) into its own shard, \(layout.shards.path)/task-I.sqlite,
      # checkpointing every epoch in \(layout.folder.path)/task-I/. A requeued task resumes its run
      # from the last epoch; a worker that was killed is started again (at most \(workerStarts) times),
      # and resumes the same way. `podium sweep merge --db DB` folds the shards into the main store.
      set -u
      export PODIUM_THREADS="${SLURM_CPUS_PER_TASK:-1}"
      for start in $(seq 1 \(workerStarts)); do
        \(worker) && exit 0
        echo "podium: the worker of task $SLURM_ARRAY_TASK_ID exited with status $? (start $start of \(workerStarts))" >&2
      done
      exit 1

      """
  }
}
