import Engine
import Foundation

/// The hyperparameters of one training run.
public struct TrainingConfiguration: Equatable, Codable, Sendable {
  public enum OptimizerKind: String, Codable, CaseIterable, Sendable { case sgd, adam, adamw }
  public enum ScheduleKind: String, Codable, CaseIterable, Sendable { case constant, step, cosine, onecycle }

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
  /// Stop when the validation metric has not improved for this many epochs (nil: never).
  public var patience: Int? = nil
  /// The metric that picks the best epoch and drives early stopping.
  public var metric = MetricName.accuracy
  public var seed: UInt64 = 0

  public init() {}

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
