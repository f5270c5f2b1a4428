import Backbones
import Datasets
import Foundation
import Training

/// Runs a sweep to completion, resumably and on any number of workers: every planned run is
/// recorded as queued before any starts; a worker claims one run at a time (a lease it
/// renews while it trains), records every finished epoch as it ends, and checkpoints into
/// the run's own folder. Running the same sweep again after a crash (or `kill -9`), or
/// starting more workers on the same store, finishes exactly the runs that are not done,
/// each once, resuming an interrupted one from its last epoch. A run that fails
/// (unreadable data, a diverging loss, missing weights) is marked failed with its reason
/// and the sweep goes on.
public final class SweepRunner {
  public let spec: SweepSpec
  public let specText: String
  public let sink: any ResultSink
  /// Runs write their checkpoints under `<workFolder>/<sweep name>/run-<id>` (or
  /// `task-<index>` for a scheduler task).
  public let workFolder: URL
  public var weights = WeightLocator()
  /// The worker this process claims runs as.
  public var worker = WorkerIdentity.current()
  public var leasePolicy = LeasePolicy.standard
  /// Receive every run's training events (a progress printer), after the store recorded them.
  public var observers: [(TrainingEvent) -> Void] = []

  public init(spec: SweepSpec, specText: String, sink: any ResultSink, workFolder: URL) {
    (self.spec, self.specText, self.sink, self.workFolder) = (spec, specText, sink, workFolder)
  }

  /// A sweep planned in the sink, with the dataset and split its runs train on.
  public struct Plan {
    public var sweep: Int64
    /// Every run of the spec, in plan order (a scheduler task's index points into it).
    public var runs: [RunSpec]
    let dataset: Dataset
    let split: Split
  }

  /// Plans (or re-plans) the sweep, then claims and runs what is left until nothing is.
  ///
  /// - Returns: how many runs finished and how many failed in this invocation.
  @discardableResult
  public func run(log: (String) -> Void = { _ in }) throws -> (done: Int, failed: Int) {
    try work(try plan(log: log), log: log)
  }

  /// Loads the dataset, resolves the split, expands the spec and records the sweep with
  /// its planned runs in the sink (only run `task` of the plan, for a scheduler task's own
  /// store).
  ///
  /// - Throws: ``SpecError`` when `task` is not an index of the plan; the dataset's errors.
  public func plan(task: Int? = nil, log: (String) -> Void = { _ in }) throws -> Plan {
    let dataset = try spec.dataset.adapter.load(root: URL(fileURLWithPath: spec.dataset.root), options: spec.dataset.options,
                                                groupColumn: spec.crossValidation?.groupColumn)
    let split = try Split(dataset, spec: try spec.dataset.split.resolve(in: dataset), seed: spec.dataset.seed,
                          crossValidation: spec.crossValidation)
    let (planned, dropped) = try spec.expand()
    if !dropped.isEmpty { log("dropped combinations that cannot run: \(dropped.joined(separator: "; "))") }
    if let task, !planned.indices.contains(task) {
      throw SpecError(file: spec.name, line: nil, "task \(task) is not one of the sweep's \(planned.count) planned runs (0–\(planned.count - 1))")
    }
    let sweep = try sink.planSweep(name: spec.name, spec: specText, metric: spec.metric, dataset: try record(dataset, split),
                                   runs: task.map { [planned[$0]] } ?? planned)
    return Plan(sweep: sweep, runs: planned, dataset: dataset, split: split)
  }

  /// Claims and runs the plan's unfinished runs one after another until none is left (or
  /// the spec's time budget is spent).
  ///
  /// - Returns: how many runs finished and how many failed in this invocation.
  @discardableResult
  public func work(_ plan: Plan, log: (String) -> Void = { _ in }) throws -> (done: Int, failed: Int) {
    let start = Date()
    var (done, failed) = (0, 0)
    while true {
      if let minutes = spec.maxMinutes, Date().timeIntervalSince(start) > minutes * 60 {
        log("time budget of \(minutes) minutes spent; the remaining runs stay queued")
        break
      }
      guard let claim = try sink.claimRun(sweep: plan.sweep, worker: worker, policy: leasePolicy) else { break }
      let folder = workFolder.appendingPathComponent("\(spec.name)/run-\(claim.run)")
      switch try execute(claim, plan: plan, folder: folder, log: log) {
      case .some(let status) where status.isFinished: done += 1
      case .some: failed += 1
      case .none: break
      }
    }
    return (done, failed)
  }

  /// Runs plan entry `task` alone, as a scheduler's array task does: the sink holds only
  /// this run (``plan(task:log:)``), checkpoints go to `task-<index>`, and a requeued task
  /// takes over from its own earlier attempt.
  ///
  /// - Returns: the run's outcome, or nil when it was already finished or out of attempts.
  @discardableResult
  public func runTask(_ task: Int, of plan: Plan, log: (String) -> Void = { _ in }) throws -> RunStatus? {
    guard let claim = try sink.claimTask(sweep: plan.sweep, spec: plan.runs[task], worker: worker, policy: leasePolicy) else {
      log("task \(task): its run is finished (or out of attempts); nothing to do")
      return nil
    }
    let folder = ShardLayout(work: workFolder.path, sweep: spec.name).checkpoints(task: task)
    return try execute(claim, plan: plan, folder: folder, log: log)
  }

  /// One claimed run, with its lease renewed on another thread while it trains. Returns
  /// its outcome (failed runs are recorded with their reason), or nil when the lease was
  /// lost to another worker and nothing more was recorded.
  private func execute(_ claim: RunClaim, plan: Plan, folder: URL, log: (String) -> Void) throws -> RunStatus? {
    let runSpec: RunSpec, split: Split
    do {
      runSpec = try JSONDecoder().decode(RunSpec.self, from: Data(claim.spec.utf8))
    } catch {
      try sink.completeRun(claim, .failed("stored parameters \(claim.spec) are not a run: \(error)"))
      return .failed
    }
    do {
      split = try runSpec.fold.map(plan.split.holdingOut) ?? plan.split
    } catch {
      try sink.completeRun(claim, .failed("\(error)"))
      return .failed
    }
    let resuming = (runSpec.fold.map { " (fold \($0 + 1) of \(plan.split.folds.count))" } ?? "")
      + (claim.attempt > 1 ? " (attempt \(claim.attempt))" : "")
    log("run \(claim.run)\(resuming): \(runSpec.backbone.rawValue) \(runSpec.strategy.rawValue) \(claim.spec)")
    let keeper = LeaseKeeper(claim: claim, policy: leasePolicy, sink: sink)
    keeper.start()
    defer { keeper.stop() }
    let recorder = EpochRecorder(claim: claim, metric: runSpec.training.metric, sink: sink)
    var run = TrainingRun(spec: runSpec, dataset: plan.dataset, split: split, weights: weights, folder: folder)
    run.replacesOtherRunsCheckpoints = true
    run.observers = [recorder.handle] + observers
    run.interruption = { try recorder.check(); try keeper.check() }
    if let grace = spec.pruneGrace {
      run.shouldStop = { [sink] summary in
        self.shouldPrune(summary, metric: runSpec.training.metric, grace: grace, sweep: plan.sweep, sink: sink)
      }
    }
    do {
      let result = try run.run()
      try recorder.check()
      let completion = try Self.completion(result, metric: runSpec.training.metric)
      try sink.completeRun(claim, completion)
      log(String(format: "run %lld %@: %@ %@ %.4f", claim.run, completion.outcome.rawValue, runSpec.fold == nil ? "validation" : "held-out fold",
                 runSpec.training.metric.rawValue, result.outcome.bestMetric))
      return completion.outcome
    } catch {
      return try recordFailure(error, of: claim, log: log)
    }
  }

  /// Records why the run failed and returns `.failed`; nil (recording nothing) when the
  /// failure is that another worker holds the run now.
  private func recordFailure(_ error: Error, of claim: RunClaim, log: (String) -> Void) throws -> RunStatus? {
    do {
      if let lost = error as? LeaseLostError { throw lost }
      try sink.completeRun(claim, .failed("\(error)"))
    } catch let lost as LeaseLostError {
      log("\(lost)")
      return nil
    }
    log("run \(claim.run) failed: \(error)")
    return .failed
  }

  /// What a finished run stores: metrics, confusion matrices, every prediction, its files.
  static func completion(_ result: RunResult, metric: MetricName) throws -> RunCompletion {
    let tta = result.withoutTTA != nil
    var completion = RunCompletion(outcome: result.outcome.pruned ? .pruned : .done,
                                   validationMetric: tta ? result.validation.metrics.value(metric) : result.outcome.bestMetric,
                                   testMetric: result.test?.metrics.value(metric), metrics: (result.test ?? result.validation).metrics)
    completion.plainValidationMetric = result.withoutTTA?.validation.value(metric)
    completion.plainTestMetric = result.withoutTTA?.test?.value(metric)
    completion.unaveragedValidationMetric = result.outcome.bestWithoutAveraging(metric)
    completion.confusion[.validation] = result.validation.metrics.confusion
    completion.confusion[.test] = result.test?.metrics.confusion
    completion.predictions = records(result.validation.predictions, subset: .validation)
      + (result.test.map { records($0.predictions, subset: .test) } ?? [])
      + (result.unlabelled.map { records($0, subset: .unlabelled) } ?? [])
    completion.artifacts[.checkpoint] = result.checkpoint?.path
    completion.artifacts[.weights] = result.pretrainedWeights?.path
    completion.artifacts[.learningRateFinder] = result.learningRateFinder?.path
    return completion
  }

  /// One record per predicted image.
  static func records(_ predictions: Predictions, subset: Subset) -> [PredictionRecord] {
    predictions.samples.enumerated().map { index, sample in
      PredictionRecord(subset: subset, imageID: sample.id, path: sample.path, label: sample.label,
                       probabilities: Array(predictions.probabilities[(index * predictions.classes)..<((index + 1) * predictions.classes)]))
    }
  }

  /// The dataset and split as stored with the sweep.
  private func record(_ dataset: Dataset, _ split: Split) throws -> DatasetRecord {
    let splitJSON = try SplitDescription(split: try spec.dataset.split.resolve(in: dataset), crossValidation: spec.crossValidation).json()
    return DatasetRecord(name: spec.dataset.name ?? dataset.root.lastPathComponent, adapter: dataset.adapter, root: dataset.root.path,
                        options: spec.dataset.options, classNames: dataset.classNames, split: splitJSON, seed: split.seed,
                        assignments: split.assignments(in: dataset))
  }

  /// The median rule (Optuna's MedianPruner): after `grace` epochs, stop a run whose
  /// validation metric is worse than the median of the finished runs at the same epoch.
  private func shouldPrune(_ summary: EpochSummary, metric: MetricName, grace: Int, sweep: Int64, sink: any ResultSink) -> Bool {
    guard summary.epoch + 1 >= grace, let others = try? sink.finishedMetrics(sweep: sweep, epoch: summary.epoch), !others.isEmpty else {
      return false
    }
    let sorted = others.sorted()
    let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    return metric.isBetter(median, than: summary.validation.value(metric))
  }
}
