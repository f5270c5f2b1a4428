import Engine
import Foundation

/// The hyperparameters of one training run.
public struct TrainingConfiguration: Equatable, Codable, Sendable {
  public enum OptimizerKind: String, Codable, CaseIterable, Sendable { case sgd, adam, adamw }
  public enum ScheduleKind: String, Codable, CaseIterable, Sendable { case constant, step, cosine, onecycle }
  /// How classes are weighted in the loss: equally, or `balanced` (scikit-learn's rule,
  /// `n_images / (n_classes · n_images_of_class)`) for imbalanced sets.
  public enum ClassWeighting: String, Codable, CaseIterable, Sendable { case none, balanced }
  /// What the classifier's outputs mean: one softmax over the classes (cross-entropy), or an
  /// independent sigmoid per class (one-vs-rest, binary cross-entropy; seed 003's Keras head),
  /// whose scores are normalised to sum to 1 for metrics and submissions.
  public enum Objective: String, Codable, CaseIterable, Sendable { case softmax, oneVsRest = "ovr" }

  public var epochs = 10
  public var batchSize = 32
  public var learningRate: Float = 1e-3
  public var optimizer = OptimizerKind.adam
  /// SGD's momentum (Nesterov when `nesterov`).
  public var momentum: Float = 0.9
  public var nesterov = false
  public var weightDecay: Float = 0
  public var schedule = ScheduleKind.cosine
  /// Epochs of linear warm-up before the schedule (0: none).
  public var warmupEpochs = 0
  public var labelSmoothing: Float = 0
  public var classWeight = ClassWeighting.none
  public var objective = Objective.softmax
  /// Stop when the validation metric has not improved for this many epochs (nil: never).
  public var patience: Int? = nil
  /// The metric that picks the best epoch and drives early stopping.
  public var metric = MetricName.accuracy
  public var seed: UInt64 = 0
  /// mixup's α (nil or 0: off): each mixed batch is blended with itself reversed by a λ drawn
  /// from Beta(α, α) (``BatchMixing``).
  public var mixupAlpha: Float?
  /// CutMix's α (nil or 0: off): a box of the reversed batch is pasted in, its area 1 − λ.
  public var cutmixAlpha: Float?
  /// The share of batches mixed when mixup or CutMix is on (nil: all of them).
  public var mixProbability: Float?
  /// The decay of an exponential moving average of the weights (nil or 0: off), evaluated
  /// and kept beside the trained weights (``WeightAverage``).
  public var emaDecay: Float?
  /// Stochastic weight averaging over this many last epochs (nil or 0: off).
  public var swaEpochs: Int?

  public init() {}

  /// The batch mixing these settings ask for.
  public var mixing: BatchMixing {
    BatchMixing(mixupAlpha: mixupAlpha ?? 0, cutmixAlpha: cutmixAlpha ?? 0, probability: mixProbability ?? 1)
  }

  /// The weight averaging these settings ask for, nil when off.
  var weightAveraging: WeightAverage.Kind? {
    if let decay = emaDecay, decay > 0 { return .exponential(decay: decay) }
    if let epochs = swaEpochs, epochs > 0 { return .stochastic(epochs: min(epochs, self.epochs)) }
    return nil
  }

  private enum CodingKeys: String, CodingKey {
    case epochs, batchSize, learningRate, optimizer, momentum, nesterov, weightDecay, schedule, warmupEpochs, labelSmoothing
    case classWeight, objective, patience, metric, seed, mixupAlpha, cutmixAlpha, mixProbability, emaDecay, swaEpochs
  }

  /// Decodes, taking the defaults for keys a run stored by an older Podium lacks.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    var configuration = TrainingConfiguration()
    func decode<T: Decodable>(_ key: CodingKeys, _ value: inout T) throws {
      if let decoded = try container.decodeIfPresent(T.self, forKey: key) { value = decoded }
    }
    try decode(.epochs, &configuration.epochs)
    try decode(.batchSize, &configuration.batchSize)
    try decode(.learningRate, &configuration.learningRate)
    try decode(.optimizer, &configuration.optimizer)
    try decode(.momentum, &configuration.momentum)
    try decode(.nesterov, &configuration.nesterov)
    try decode(.weightDecay, &configuration.weightDecay)
    try decode(.schedule, &configuration.schedule)
    try decode(.warmupEpochs, &configuration.warmupEpochs)
    try decode(.labelSmoothing, &configuration.labelSmoothing)
    try decode(.classWeight, &configuration.classWeight)
    try decode(.objective, &configuration.objective)
    configuration.patience = try container.decodeIfPresent(Int.self, forKey: .patience)
    try decode(.metric, &configuration.metric)
    try decode(.seed, &configuration.seed)
    configuration.mixupAlpha = try container.decodeIfPresent(Float.self, forKey: .mixupAlpha)
    configuration.cutmixAlpha = try container.decodeIfPresent(Float.self, forKey: .cutmixAlpha)
    configuration.mixProbability = try container.decodeIfPresent(Float.self, forKey: .mixProbability)
    configuration.emaDecay = try container.decodeIfPresent(Float.self, forKey: .emaDecay)
    configuration.swaEpochs = try container.decodeIfPresent(Int.self, forKey: .swaEpochs)
    self = configuration
  }

  /// Encodes every field, leaving out `classWeight` and `objective` at their defaults, so the stored
  /// parameters of runs planned before it existed stay identical (re-planning a sweep then
  /// neither duplicates nor loses a run).
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(epochs, forKey: .epochs)
    try container.encode(batchSize, forKey: .batchSize)
    try container.encode(learningRate, forKey: .learningRate)
    try container.encode(optimizer, forKey: .optimizer)
    try container.encode(momentum, forKey: .momentum)
    try container.encode(nesterov, forKey: .nesterov)
    try container.encode(weightDecay, forKey: .weightDecay)
    try container.encode(schedule, forKey: .schedule)
    try container.encode(warmupEpochs, forKey: .warmupEpochs)
    try container.encode(labelSmoothing, forKey: .labelSmoothing)
    if classWeight != .none { try container.encode(classWeight, forKey: .classWeight) }
    if objective != .softmax { try container.encode(objective, forKey: .objective) }
    try container.encodeIfPresent(patience, forKey: .patience)
    try container.encode(metric, forKey: .metric)
    try container.encode(seed, forKey: .seed)
    try container.encodeIfPresent(mixupAlpha, forKey: .mixupAlpha)
    try container.encodeIfPresent(cutmixAlpha, forKey: .cutmixAlpha)
    try container.encodeIfPresent(mixProbability, forKey: .mixProbability)
    try container.encodeIfPresent(emaDecay, forKey: .emaDecay)
    try container.encodeIfPresent(swaEpochs, forKey: .swaEpochs)
  }

  /// The weight of each class for `labels` (the training split's), nil when unweighted.
  public func classWeights(labels: [Int], classes: Int) -> [Float]? {
    guard classWeight == .balanced, !labels.isEmpty else { return nil }
    var counts = [Int](repeating: 0, count: classes)
    for label in labels { counts[label] += 1 }
    return counts.map { $0 == 0 ? 1 : Float(labels.count) / Float(classes * $0) }
  }

  /// The learning-rate schedule over `stepsPerEpoch · epochs` optimizer steps.
  public func learningRateSchedule(stepsPerEpoch: Int) -> any LearningRateSchedule {
    let total = max(1, stepsPerEpoch * epochs)
    let base: any LearningRateSchedule
    switch schedule {
    case .constant: base = ConstantSchedule(learningRate)
    case .step: base = StepSchedule(base: learningRate, stepSize: max(1, total / 3), gamma: 0.1)
    case .cosine: base = CosineSchedule(base: learningRate, totalSteps: total)
    case .onecycle: base = OneCycleSchedule(maxRate: learningRate, totalSteps: max(2, total))
    }
    return warmupEpochs > 0 ? WarmupSchedule(base, warmupSteps: warmupEpochs * stepsPerEpoch) : base
  }

  /// The optimizer over `parameters`.
  public func makeOptimizer(_ parameters: [Parameter]) -> any Optimizer {
    switch optimizer {
    case .sgd:
      return SGD(parameters, learningRate: learningRate, momentum: momentum, weightDecay: weightDecay, nesterov: nesterov && momentum > 0)
    case .adam: return Adam(parameters, learningRate: learningRate, weightDecay: weightDecay)
    case .adamw: return Adam.adamW(parameters, learningRate: learningRate, weightDecay: weightDecay)
    }
  }
}
