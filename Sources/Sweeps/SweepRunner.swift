import Backbones
import Datasets
import Foundation
import Training

/// Runs a sweep to completion, resumably: every planned run is recorded as queued before
/// any starts, every finished epoch is recorded as it ends, and each run checkpoints into
/// its own folder, so running the same sweep again after a crash (or `kill -9`) finishes
/// exactly the runs that are not done, resuming the interrupted one from its last epoch.
/// A run that fails (unreadable data, a diverging loss, missing weights) is marked failed
/// with its reason and the sweep goes on.
public final class SweepRunner {
  public let spec: SweepSpec
  public let specText: String
  public let sink: any ResultSink
  /// Runs write their checkpoints under `<workFolder>/<sweep name>/run-<id>`.
  public let workFolder: URL
  public var weights = WeightLocator()
  public var version = "unknown"
  /// Receive every run's training events (a progress printer), after the store recorded them.
  public var observers: [(TrainingEvent) -> Void] = []

  public init(spec: SweepSpec, specText: String, sink: any ResultSink, workFolder: URL) {
    (self.spec, self.specText, self.sink, self.workFolder) = (spec, specText, sink, workFolder)
  }

  /// Plans (or re-plans) the sweep and runs what is left; `log` receives one line per event.
  ///
  /// - Returns: how many runs finished and how many failed in this invocation.
  @discardableResult
  public func run(log: (String) -> Void = { _ in }) throws -> (done: Int, failed: Int) {
    let dataset = try spec.dataset.adapter.load(root: URL(fileURLWithPath: spec.dataset.root), options: spec.dataset.options)
    let split = try Split(dataset, spec: try spec.dataset.split.resolve(in: dataset), seed: spec.dataset.seed)
    let (planned, dropped) = try spec.expand()
    if !dropped.isEmpty { log("dropped combinations that cannot run: \(dropped.joined(separator: "; "))") }
    let sweep = try sink.planSweep(name: spec.name, spec: specText, metric: spec.metric, dataset: try record(dataset, split),
                                   runs: planned)
    let start = Date()
    var (done, failed) = (0, 0)
    for (id, runSpec) in try sink.unfinishedRuns(sweep: sweep) {
      if let minutes = spec.maxMinutes, Date().timeIntervalSince(start) > minutes * 60 {
        log("time budget of \(minutes) minutes spent; the remaining runs stay queued")
        break
      }
      log("run \(id): \(runSpec.backbone.rawValue) \(runSpec.strategy.rawValue) \(try runSpec.canonicalJSON())")
      if try execute(id, runSpec, sweep: sweep, dataset: dataset, split: split, log: log) { done += 1 } else { failed += 1 }
    }
    return (done, failed)
  }

  /// One run; returns false when it failed (recorded with its reason).
  private func execute(_ id: Int64, _ runSpec: RunSpec, sweep: Int64, dataset: Dataset, split: Split, log: (String) -> Void) throws -> Bool {
    try sink.startRun(id, version: version, machine: ProcessInfo.processInfo.hostName)
    var run = TrainingRun(spec: runSpec, dataset: dataset, split: split, weights: weights,
                          folder: workFolder.appendingPathComponent("\(spec.name)/run-\(id)"))
    var sinkError: Error?
    run.observers = [{ event in
      guard case .epochEnded(let summary) = event else { return }
      do {
        try self.sink.recordEpoch(run: id, EpochRecord(
          epoch: summary.epoch, trainLoss: summary.trainLoss, trainMetric: summary.trainAccuracy, validationLoss: summary.validationLoss,
          validationMetric: summary.validation.value(runSpec.training.metric), seconds: summary.seconds))
      } catch { sinkError = error }
    }] + observers
    if let grace = spec.pruneGrace {
      run.shouldStop = { [sink] summary in self.shouldPrune(summary, metric: runSpec.training.metric, grace: grace, sweep: sweep, sink: sink) }
    }
    do {
      let result = try run.run()
      if let sinkError { throw sinkError }
      let completion = try Self.completion(result, metric: runSpec.training.metric)
      try sink.completeRun(id, completion)
      log(String(format: "run %lld %@: validation %@ %.4f", id, completion.outcome.rawValue, runSpec.training.metric.rawValue,
                 result.outcome.bestMetric))
      return true
    } catch {
      try sink.completeRun(id, .failed("\(error)"))
      log("run \(id) failed: \(error)")
      return false
    }
  }

  /// What a finished run stores: metrics, confusion matrices, every prediction, its files.
  static func completion(_ result: RunResult, metric: MetricName) throws -> RunCompletion {
    var completion = RunCompletion(outcome: result.outcome.pruned ? .pruned : .done, validationMetric: result.outcome.bestMetric,
                                   testMetric: result.test?.metrics.value(metric), metrics: (result.test ?? result.validation).metrics)
    completion.confusion[.validation] = result.validation.metrics.confusion
    completion.confusion[.test] = result.test?.metrics.confusion
    completion.predictions = records(result.validation.predictions, subset: .validation)
      + (result.test.map { records($0.predictions, subset: .test) } ?? [])
      + (result.unlabelled.map { records($0, subset: .unlabelled) } ?? [])
    completion.artifacts[.checkpoint] = result.checkpoint?.path
    completion.artifacts[.weights] = result.pretrainedWeights?.path
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
    let splitJSON = String(decoding: try JSONEncoder().encode(try spec.dataset.split.resolve(in: dataset)), as: UTF8.self)
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
