import Backbones
import Datasets
import Engine
import Foundation

/// The training loop: epochs of optimizer steps on the training batches, validation after
/// each epoch, the best epoch kept, early stopping, and a checkpoint after every epoch from
/// which an interrupted run resumes.
///
/// With a checkpoint folder, each finished epoch writes one ``EpochCheckpoint`` (weights,
/// optimizer state, best weights, history) as a unit; `fit` on a folder that holds one
/// continues after the last finished epoch exactly as if it had not stopped.
public final class Trainer {
  public let model: any TrainableModel
  public let configuration: TrainingConfiguration
  public let checkpointFolder: URL?
  /// Called with every event, in order, on the calling thread.
  public var observers: [(TrainingEvent) -> Void] = []
  /// Asked after every epoch whether to stop the run now (a sweep's pruning rule).
  public var shouldStop: ((EpochSummary) -> Bool)?
  /// Called before every training batch; throws to abandon the run at once (a sweep worker
  /// whose claim on the run was taken over by another worker).
  public var interruption: (() throws -> Void)?
  /// Per-class loss weights (``TrainingConfiguration/classWeights(labels:classes:)``); nil: equal.
  public var classWeights: [Float]?
  /// Called before each file of an epoch's checkpoint is written, with its name; a test
  /// throws from it to stop the trainer between two writes, as a kill would.
  var checkpointWillWrite: ((String) throws -> Void)?

  public init(model: any TrainableModel, configuration: TrainingConfiguration, checkpointFolder: URL? = nil) {
    (self.model, self.configuration, self.checkpointFolder) = (model, configuration, checkpointFolder)
  }

  /// Trains on `train`, validating on `validation` after each epoch.
  ///
  /// - Throws: ``TrainingError`` (a NaN loss, an empty batch), or errors of the checkpoint files.
  public func fit(train: any BatchSource, validation: any BatchSource) throws -> TrainingOutcome {
    var state = try resumeState() ?? TrainingState()
    let optimizer = configuration.makeOptimizer(model.trainingNetwork.trainableParameters)
    let average = configuration.weightAveraging.map { WeightAverage($0, of: model.trainingNetwork) }
    if !state.history.isEmpty { try restore(optimizer, average) }
    let schedule = configuration.learningRateSchedule(stepsPerEpoch: train.batchCount)
    emit(.fitStarted(epochs: configuration.epochs, batchesPerEpoch: train.batchCount, resumedAt: state.history.count))
    for summary in state.history { emit(.epochRestored(summary)) }
    var stoppedEarly = false, pruned = false
    for epoch in state.history.count..<configuration.epochs {
      var summary = try runEpoch(epoch, train: train, validation: validation, optimizer: optimizer, schedule: schedule, average: average)
      let averaged = try evaluateAverage(average, after: epoch, train: train, validation: validation, summary: &summary)
      state.record(summary, metric: configuration.metric)
      try saveCheckpoint(state, improved: state.bestEpoch == epoch, optimizer: optimizer, average: average, delivered: averaged)
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
    model.setTraining(false)
    defer { model.setTraining(true) }
    var samples: [Dataset.Sample] = [], probabilities: [Float] = []
    for batch in loader.epoch(0, shuffle: false) {
      for failure in batch.failures { emit(.imageSkipped(path: failure.path, reason: failure.reason)) }
      guard !batch.samples.isEmpty else { continue }
      let logits = try GradientRecording.withoutGradients { try model.trainingNetwork(batch.images) }
      probabilities += configuration.objective == .softmax ? softmaxRows(logits) : normalisedSigmoidRows(logits)
      samples += batch.samples
    }
    return Predictions(samples: samples, probabilities: probabilities, classes: model.classCount)
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
    _ epoch: Int, train: any BatchSource, validation: any BatchSource, optimizer: any Optimizer, schedule: any LearningRateSchedule,
    average: WeightAverage?
  ) throws -> EpochSummary {
    let start = Date()
    model.setTraining(true)
    model.trainingNetwork.reseedRandomness(forEpoch: epoch)
    var meter = LossMeter(), correct = 0, seen = 0
    for (index, batch) in train.epoch(epoch, shuffle: true).enumerated() {
      try interruption?()
      for failure in batch.failures { emit(.imageSkipped(path: failure.path, reason: failure.reason)) }
      guard !batch.samples.isEmpty else { continue }
      let batchStart = Date()
      let step = epoch * train.batchCount + index
      let (loss, hits) = try trainStep(batch, optimizer: optimizer, learningRate: schedule.learningRate(at: step), step: step)
      guard loss.isFinite else { throw TrainingError("loss became \(loss) at epoch \(epoch + 1), batch \(index + 1); lower the learning rate") }
      if let average, average.kind.updatesEveryStep { average.update(from: model.trainingNetwork) }
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

  /// Scores the weight average the epoch ends with, when the run averages weights: the
  /// exponential average after every epoch; the stochastic one after each epoch of its
  /// window, once this epoch's weights are folded in and the batch norms' statistics are
  /// recomputed on the training images. The summary then carries the average's metrics and
  /// the trained weights' own beside them. Returns the values the averaged model was scored
  /// with (the epoch's best weights if it improves), nil when the epoch delivers the trained
  /// weights themselves.
  private func evaluateAverage(_ average: WeightAverage?, after epoch: Int, train: any BatchSource, validation: any BatchSource,
                               summary: inout EpochSummary) throws -> [(name: String, tensor: Tensor)]? {
    guard let average else { return nil }
    if case .stochastic(let window) = average.kind {
      guard epoch >= configuration.epochs - window else { return nil }
      average.update(from: model.trainingNetwork)
    }
    let network = model.trainingNetwork
    let (metrics, values) = try average.swappedIn(network) { () throws -> ClassificationMetrics in
      if case .stochastic = average.kind {
        model.setTraining(true)
        let batches = train.epoch(epoch, shuffle: true).lazy.filter { !$0.samples.isEmpty }.map(\.images)
        try network.recomputeBatchNormStatistics(over: batches)
      }
      return try evaluate(validation)
    }
    summary.withoutAveraging = summary.validation
    (summary.validation, summary.validationLoss) = (metrics, metrics.logLoss)
    return values
  }

  /// Forward, the loss fused with its gradient, backward, optimizer step — on the batch
  /// mixed as the configuration's ``BatchMixing`` draws for optimizer step `step` (seeded by
  /// the run's seed and the step, so a resumed run mixes as an uninterrupted one). Returns
  /// the loss and the number of correct predictions (against the larger share's labels).
  func trainStep(_ batch: Batch, optimizer: any Optimizer, learningRate: Float, step: Int) throws -> (Float, Int) {
    model.trainingNetwork.zeroGradients()
    let mixing = configuration.mixing
    var rng = mixing.isActive ? SeededGenerator(seed: configuration.seed).derived("mix \(step)") : SeededGenerator(seed: 0)
    let draw = mixing.draw(shape: batch.images.shape, rng: &rng)
    let images = draw.map { BatchMixing.apply($0, to: batch.images) } ?? batch.images
    let logits = try GradientRecording.withoutInputGradients { try model.trainingNetwork(images) }
    var dLogits = Tensor(shape: logits.shape)
    let classes = logits.shape[1]
    let loss = try logits.withUnsafeBufferPointer { x in
      try dLogits.withUnsafeMutableBufferPointer { d in try self.mixedLoss(x.baseAddress!, labels: batch.labels, draw: draw, classes: classes, d.baseAddress!) }
    }
    _ = model.trainingNetwork.backward(dLogits, needsInputGradient: false)
    optimizer.learningRate = learningRate
    optimizer.step()
    let values = logits.scalars
    let scored = (draw?.lambda ?? 1) >= 0.5 ? batch.labels : batch.labels.reversed()
    let hits = scored.enumerated().filter { row, label in
      let scores = values[(row * classes)..<((row + 1) * classes)]
      return scores.indices.max { scores[$0] < scores[$1] }! - row * classes == label
    }.count
    return (loss, hits)
  }

  /// The loss on mixed targets, `λ · loss(labels) + (1 − λ) · loss(labels reversed)`, and its
  /// gradient; the plain loss without a draw.
  func mixedLoss(_ logits: UnsafePointer<Float>, labels: [Int], draw: BatchMixing.Draw?, classes: Int, _ dLogits: UnsafeMutablePointer<Float>) throws
    -> Float
  {
    guard let draw else { return try loss(logits, labels: labels, classes: classes, dLogits) }
    let count = labels.count * classes
    var partner = [Float](repeating: 0, count: count)
    let own = try loss(logits, labels: labels, classes: classes, dLogits)
    let other = try partner.withUnsafeMutableBufferPointer { try loss(logits, labels: labels.reversed(), classes: classes, $0.baseAddress!) }
    let (a, b) = (draw.lambda, 1 - draw.lambda)
    partner.withUnsafeBufferPointer { p in
      for i in 0..<count { dLogits[i] = a * dLogits[i] + b * p[i] }
    }
    return a * own + b * other
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

  /// The state of the newest complete epoch, with its weights loaded into the model; nil
  /// when there is none to resume from.
  private func resumeState() throws -> TrainingState? {
    guard let folder = checkpointFolder.flatMap(EpochCheckpoint.latest(in:)),
      let data = try? FileContents.data(of: folder.appendingPathComponent("state.json")),
      let state = try? JSONDecoder().decode(TrainingState.self, from: data)
    else { return nil }
    try model.trainingNetwork.load(Checkpoint(contentsOf: folder.appendingPathComponent("last.safetensors")))
    return state
  }

  /// Loads the optimizer's buffers and the weight average saved with the last epoch.
  private func restore(_ optimizer: any Optimizer, _ average: WeightAverage?) throws {
    guard let epoch = checkpointFolder.flatMap(EpochCheckpoint.latest(in:)) else { return }
    let file = epoch.appendingPathComponent("optimizer.safetensors")
    if FileManager.default.fileExists(atPath: file.path) {
      let checkpoint = try Checkpoint(contentsOf: file)
      let tensors = Dictionary(uniqueKeysWithValues: try checkpoint.readAll().map { ($0.name, $0.tensor) })
      try optimizer.restore(tensors: tensors, steps: Int(checkpoint.metadata["steps"] ?? "0") ?? 0)
    }
    let averaged = epoch.appendingPathComponent("average.safetensors")
    if let average, FileManager.default.fileExists(atPath: averaged.path) { try average.restore(from: averaged) }
  }

  /// Writes the epoch's checkpoint as one unit (``EpochCheckpoint``): the weights, the
  /// optimizer's state, the weight average, the best weights (the epoch's delivered model —
  /// `delivered`, else the trained weights — when it improved, else the previous epoch's
  /// best carried over) and the state.
  private func saveCheckpoint(_ state: TrainingState, improved: Bool, optimizer: any Optimizer, average: WeightAverage?,
                              delivered: [(name: String, tensor: Tensor)]?) throws {
    guard let folder = checkpointFolder else { return }
    let previous = EpochCheckpoint.latest(in: folder)
    try EpochCheckpoint.write(epoch: state.history.count - 1, in: folder) { epoch in
      try checkpointWillWrite?("last.safetensors")
      try model.trainingNetwork.save(to: epoch.appendingPathComponent("last.safetensors"))
      try checkpointWillWrite?("optimizer.safetensors")
      let (tensors, steps) = optimizer.checkpointState()
      try Checkpoint.writeSafetensors(tensors, metadata: ["steps": String(steps)], to: epoch.appendingPathComponent("optimizer.safetensors"))
      if let average {
        try checkpointWillWrite?("average.safetensors")
        try average.save(to: epoch.appendingPathComponent("average.safetensors"))
      }
      try checkpointWillWrite?("best.safetensors")
      let best = epoch.appendingPathComponent("best.safetensors")
      if improved || previous == nil {
        try Checkpoint.writeInPodiumLayout(delivered ?? model.trainingNetwork.namedValues, to: best)
      } else {
        try EpochCheckpoint.carry(previous!.appendingPathComponent("best.safetensors"), to: best)
      }
      try checkpointWillWrite?("state.json")
      try AtomicFile.write(try CanonicalJSON.data(state), to: epoch.appendingPathComponent("state.json"))
    }
  }
}
