import Backbones
import Datasets
import Engine
import Foundation

/// A network the trainer can train: Podium's backbones, a head on cached features, or a
/// backbone's top on cached activations of its frozen stages.
public protocol TrainableModel: AnyObject {
  /// Input batch to logits `[N, classCount]`; parameter names are the checkpoint's.
  var trainingNetwork: any Layer { get }
  var classCount: Int { get }
  /// Training or evaluation mode (a backbone keeps its frozen stages in evaluation).
  func setTraining(_ training: Bool)
}

extension Backbone: TrainableModel {
  public var trainingNetwork: any Layer { network }
}

/// Where batches come from: the image loader, or features held in memory.
public protocol BatchSource {
  var batchCount: Int { get }
  /// The batches of one epoch, in a seeded order when `shuffle` is true.
  func epoch(_ epoch: Int, shuffle: Bool) -> AnySequence<Batch>
}

extension BatchLoader: BatchSource {}

/// The outcome of `fit`: every epoch's summary and the best one.
public struct TrainingOutcome: Codable, Equatable, Sendable {
  public var history: [EpochSummary]
  public var bestEpoch: Int
  public var bestMetric: Double
  public var stoppedEarly: Bool
  /// True when ``Trainer/shouldStop`` ended the run.
  public var pruned = false
}

/// Predicted probabilities for a set of images.
public struct Predictions: Sendable {
  public var samples: [Dataset.Sample]
  /// `samples.count × classes`, row-major.
  public var probabilities: [Float]
  public var classes: Int
}

/// A model's predictions on labelled images and the metrics they score.
public struct Evaluation: Sendable {
  public var metrics: ClassificationMetrics
  public var predictions: Predictions
}

/// A training run that cannot go on: one line with the reason.
public struct TrainingError: Error, CustomStringConvertible, Equatable {
  public var description: String
  public init(_ description: String) { self.description = description }
}

/// The training loop: epochs of optimizer steps on the training batches, validation after
/// each epoch, the best epoch kept, early stopping, and a checkpoint after every epoch from
/// which an interrupted run resumes.
///
/// With a checkpoint folder, each finished epoch writes `last.safetensors` (the weights),
/// `best.safetensors` when the validation metric improved, `optimizer.safetensors` (momentum
/// or Adam moments, and the step count) and `state.json` (history and best epoch), each
/// atomically; `fit` on a folder that holds them continues after the last finished epoch
/// exactly as if it had not stopped.
public final class Trainer {
  public let backbone: any TrainableModel
  public let configuration: TrainingConfiguration
  public let checkpointFolder: URL?
  /// Called with every event, in order, on the calling thread.
  public var observers: [(TrainingEvent) -> Void] = []
  /// Asked after every epoch whether to stop the run now (a sweep's pruning rule).
  public var shouldStop: ((EpochSummary) -> Bool)?
  /// Per-class loss weights (``TrainingConfiguration/classWeights(labels:classes:)``); nil: equal.
  public var classWeights: [Float]?

  public init(backbone: any TrainableModel, configuration: TrainingConfiguration, checkpointFolder: URL? = nil) {
    (self.backbone, self.configuration, self.checkpointFolder) = (backbone, configuration, checkpointFolder)
  }

  /// Trains on `train`, validating on `validation` after each epoch.
  ///
  /// - Throws: ``TrainingError`` (a NaN loss, an empty batch), or errors of the checkpoint files.
  public func fit(train: any BatchSource, validation: any BatchSource) throws -> TrainingOutcome {
    var state = try resumeState() ?? TrainingState()
    let optimizer = configuration.makeOptimizer(backbone.trainingNetwork.trainableParameters)
    if !state.history.isEmpty { try restoreOptimizer(optimizer) }
    let schedule = configuration.learningRateSchedule(stepsPerEpoch: train.batchCount)
    emit(.fitStarted(epochs: configuration.epochs, batchesPerEpoch: train.batchCount, resumedAt: state.history.count))
    var stoppedEarly = false, pruned = false
    for epoch in state.history.count..<configuration.epochs {
      let summary = try runEpoch(epoch, train: train, validation: validation, optimizer: optimizer, schedule: schedule)
      state.record(summary, metric: configuration.metric)
      try saveCheckpoint(state, improved: state.bestEpoch == epoch, optimizer: optimizer)
      emit(.epochEnded(summary))
      if shouldStop?(summary) == true {
        (stoppedEarly, pruned) = (true, true)
        emit(.pruned(epoch: epoch))
        break
      }
      if let patience = configuration.patience, epoch - state.bestEpoch >= patience, epoch + 1 < configuration.epochs {
        stoppedEarly = true
        emit(.stoppedEarly(epoch: epoch, bestEpoch: state.bestEpoch))
        break
      }
    }
    emit(.fitEnded(bestEpoch: state.bestEpoch, bestMetric: state.bestMetric))
    return TrainingOutcome(history: state.history, bestEpoch: state.bestEpoch, bestMetric: state.bestMetric,
                           stoppedEarly: stoppedEarly, pruned: pruned)
  }

  /// Class probabilities for every image of `loader`, in evaluation mode.
  public func predict(_ loader: any BatchSource) throws -> Predictions {
    backbone.setTraining(false)
    defer { backbone.setTraining(true) }
    var samples: [Dataset.Sample] = [], probabilities: [Float] = []
    for batch in loader.epoch(0, shuffle: false) {
      for failure in batch.failures { emit(.imageSkipped(path: failure.path, reason: failure.reason)) }
      guard !batch.samples.isEmpty else { continue }
      let logits = try GradientRecording.withoutGradients { try backbone.trainingNetwork(batch.images) }
      probabilities += configuration.objective == .softmax ? softmaxRows(logits) : normalisedSigmoidRows(logits)
      samples += batch.samples
    }
    return Predictions(samples: samples, probabilities: probabilities, classes: backbone.classCount)
  }

  /// The metrics of the model on a labelled loader.
  public func evaluate(_ loader: any BatchSource) throws -> ClassificationMetrics {
    try score(loader).metrics
  }

  /// The model's probabilities for every image of a labelled loader, and their metrics.
  public func score(_ loader: any BatchSource) throws -> Evaluation {
    let predictions = try predict(loader)
    let metrics = ClassificationMetrics(probabilities: predictions.probabilities, labels: predictions.samples.map { $0.label ?? 0 },
                                        classes: predictions.classes)
    return Evaluation(metrics: metrics, predictions: predictions)
  }

  // MARK: - One epoch

  private func runEpoch(
    _ epoch: Int, train: any BatchSource, validation: any BatchSource, optimizer: any Optimizer, schedule: any LearningRateSchedule
  ) throws -> EpochSummary {
    let start = Date()
    backbone.setTraining(true)
    var meter = LossMeter(), correct = 0, seen = 0
    for (index, batch) in train.epoch(epoch, shuffle: true).enumerated() {
      for failure in batch.failures { emit(.imageSkipped(path: failure.path, reason: failure.reason)) }
      guard !batch.samples.isEmpty else { continue }
      let batchStart = Date()
      let step = epoch * train.batchCount + index
      let (loss, hits) = try trainStep(batch, optimizer: optimizer, learningRate: schedule.learningRate(at: step))
      guard loss.isFinite else { throw TrainingError("loss became \(loss) at epoch \(epoch + 1), batch \(index + 1); lower the learning rate") }
      meter.add(loss, count: batch.samples.count)
      (correct, seen) = (correct + hits, seen + batch.samples.count)
      emit(.batchEnded(epoch: epoch, batch: index + 1, of: train.batchCount, loss: loss, smoothedLoss: meter.smoothed,
                       imagesPerSecond: Double(batch.samples.count) / max(Date().timeIntervalSince(batchStart), 1e-9),
                       learningRate: optimizer.learningRate))
    }
    guard seen > 0 else { throw TrainingError("epoch \(epoch + 1) had no readable training images") }
    let metrics = try evaluate(validation)
    return EpochSummary(epoch: epoch, trainLoss: meter.mean, trainAccuracy: Double(correct) / Double(seen),
                        validationLoss: metrics.logLoss, validation: metrics, seconds: Date().timeIntervalSince(start),
                        learningRate: optimizer.learningRate)
  }

  /// Forward, the loss fused with its gradient, backward, optimizer step. Returns the loss
  /// and the number of correct predictions.
  private func trainStep(_ batch: Batch, optimizer: any Optimizer, learningRate: Float) throws -> (Float, Int) {
    backbone.trainingNetwork.zeroGradients()
    let logits = try GradientRecording.withoutInputGradients { try backbone.trainingNetwork(batch.images) }
    var dLogits = Tensor(shape: logits.shape)
    let classes = logits.shape[1]
    let loss = try logits.withUnsafeBufferPointer { x in
      try dLogits.withUnsafeMutableBufferPointer { d in try self.loss(x.baseAddress!, labels: batch.labels, classes: classes, d.baseAddress!) }
    }
    _ = backbone.trainingNetwork.backward(dLogits, needsInputGradient: false)
    optimizer.learningRate = learningRate
    optimizer.step()
    let values = logits.scalars
    let hits = batch.labels.enumerated().filter { row, label in
      let scores = values[(row * classes)..<((row + 1) * classes)]
      return scores.indices.max { scores[$0] < scores[$1] }! - row * classes == label
    }.count
    return (loss, hits)
  }

  /// The objective's loss and its gradient: softmax cross-entropy (with label smoothing and
  /// class weights), or one-vs-rest binary cross-entropy against one-hot targets.
  private func loss(_ logits: UnsafePointer<Float>, labels: [Int], classes: Int, _ dLogits: UnsafeMutablePointer<Float>) throws -> Float {
    switch configuration.objective {
    case .softmax:
      return softmaxCrossEntropy(logits: logits, labels: labels, classes: classes, labelSmoothing: configuration.labelSmoothing,
                                 classWeights: classWeights, dLogits: dLogits)
    case .oneVsRest:
      guard classWeights == nil, configuration.labelSmoothing == 0 else {
        throw TrainingError("class_weight and label_smoothing apply to the softmax head, not one-vs-rest")
      }
      var targets = [Float](repeating: 0, count: labels.count * classes)
      for (row, label) in labels.enumerated() { targets[row * classes + label] = 1 }
      return binaryCrossEntropyWithLogits(logits: logits, targets: targets, count: targets.count, dLogits: dLogits)
    }
  }

  private func emit(_ event: TrainingEvent) {
    for observer in observers { observer(event) }
  }

  // MARK: - Checkpoints

  private func resumeState() throws -> TrainingState? {
    guard let folder = checkpointFolder,
      let data = try? Data(contentsOf: folder.appendingPathComponent("state.json")),
      let state = try? JSONDecoder().decode(TrainingState.self, from: data)
    else { return nil }
    try backbone.trainingNetwork.load(Checkpoint(contentsOf: folder.appendingPathComponent("last.safetensors")))
    return state
  }

  /// Loads the optimizer's buffers saved with the last epoch (a folder written before they
  /// were saved resumes with fresh ones).
  private func restoreOptimizer(_ optimizer: any Optimizer) throws {
    guard let file = checkpointFolder?.appendingPathComponent("optimizer.safetensors"), FileManager.default.fileExists(atPath: file.path) else {
      return
    }
    let checkpoint = try Checkpoint(contentsOf: file)
    let tensors = Dictionary(uniqueKeysWithValues: try checkpoint.readAll().map { ($0.name, $0.tensor) })
    try optimizer.restore(tensors: tensors, steps: Int(checkpoint.metadata["steps"] ?? "0") ?? 0)
  }

  private func saveCheckpoint(_ state: TrainingState, improved: Bool, optimizer: any Optimizer) throws {
    guard let folder = checkpointFolder else { return }
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    try backbone.trainingNetwork.save(to: folder.appendingPathComponent("last.safetensors"))
    let (tensors, steps) = optimizer.checkpointState()
    try Checkpoint.writeSafetensors(tensors, metadata: ["steps": String(steps)], to: folder.appendingPathComponent("optimizer.safetensors"))
    if improved { try backbone.trainingNetwork.save(to: folder.appendingPathComponent("best.safetensors")) }
    try AtomicFile.write(try CanonicalJSON.data(state), to: folder.appendingPathComponent("state.json"))
  }
}

/// What a checkpoint remembers besides the weights.
struct TrainingState: Codable {
  var history: [EpochSummary] = []
  var bestEpoch = -1
  var bestMetric = Double.nan

  mutating func record(_ summary: EpochSummary, metric: MetricName) {
    history.append(summary)
    let value = summary.validation.value(metric)
    if bestEpoch < 0 || metric.isBetter(value, than: bestMetric) { (bestEpoch, bestMetric) = (summary.epoch, value) }
  }
}

/// The running mean of the loss and fastai's smoothed loss (β = 0.98, debiased).
struct LossMeter {
  private var total = 0.0, count = 0, average = 0.0, steps = 0
  private let beta = 0.98

  mutating func add(_ loss: Float, count n: Int) {
    total += Double(loss) * Double(n)
    count += n
    steps += 1
    average = beta * average + (1 - beta) * Double(loss)
  }

  var mean: Double { count == 0 ? 0 : total / Double(count) }
  var smoothed: Float { Float(average / (1 - pow(beta, Double(steps)))) }
}

/// One-vs-rest scores as probabilities: each logit's sigmoid, each row then divided by its
/// sum (so metrics and submissions read them like softmax outputs).
func normalisedSigmoidRows(_ logits: Tensor) -> [Float] {
  let k = logits.shape[1], values = logits.scalars
  var out = [Float](repeating: 0, count: values.count)
  for row in 0..<logits.shape[0] {
    let sigmoids = values[(row * k)..<((row + 1) * k)].map { 1 / (1 + exp(-Double($0))) }
    let total = max(sigmoids.reduce(0, +), .leastNormalMagnitude)
    for (j, value) in sigmoids.enumerated() { out[row * k + j] = Float(value / total) }
  }
  return out
}

/// Row-wise softmax of `[N, K]` logits, in Double with the max shift.
func softmaxRows(_ logits: Tensor) -> [Float] {
  let k = logits.shape[1], values = logits.scalars
  var out = [Float](repeating: 0, count: values.count)
  for row in 0..<logits.shape[0] {
    let slice = values[(row * k)..<((row + 1) * k)]
    let top = Double(slice.max()!)
    let exps = slice.map { exp(Double($0) - top) }
    let total = exps.reduce(0, +)
    for (j, e) in exps.enumerated() { out[row * k + j] = Float(e / total) }
  }
  return out
}
