import Backbones
import Engine
import Imaging
import Training

/// A value in a spec's grid, random draw or fixed section.
public enum ParameterValue: Equatable, Hashable, Sendable, Codable, CustomStringConvertible {
  case text(String)
  case number(Double)

  public var description: String {
    switch self {
    case .text(let text): return text
    case .number(let value): return value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
  }
}

/// The hyperparameters a sweep may set, by the names the spec uses, and how each one
/// changes a ``RunSpec``.
public enum Hyperparameter: String, CaseIterable, Sendable {
  case backbone, strategy, lr, batchSize = "batch_size", epochs, optimizer, weightDecay = "weight_decay", momentum
  case augment, imageSize = "image_size", head, hidden, dropout, unfreeze, labelSmoothing = "label_smoothing"
  case seed, schedule, patience, headEpochs = "head_epochs", classWeight = "class_weight", featureStage = "feature_stage"
  case augmentCopies = "augment_copies", lrDecay = "lr_decay", headInit = "head_init"

  /// Sets this hyperparameter on `spec`.
  ///
  /// - Throws: a message naming the value and what is allowed (the caller adds file and line).
  public func apply(_ value: ParameterValue, to spec: inout RunSpec) throws {
    switch self {
    case .backbone: spec.backbone = try choice(value, BackboneName.self)
    case .strategy: spec.strategy = try choice(value, Strategy.self)
    case .optimizer: spec.training.optimizer = try choice(value, TrainingConfiguration.OptimizerKind.self)
    case .schedule: spec.training.schedule = try choice(value, TrainingConfiguration.ScheduleKind.self)
    case .classWeight: spec.training.classWeight = try choice(value, TrainingConfiguration.ClassWeighting.self)
    case .augmentCopies: spec.augmentCopies = try integer(value, minimum: 0)
    case .headInit: spec.headInit = try choice(value, LinearInitialization.self)
    case .lrDecay:
      let decay = try number(value, positive: true)
      guard decay <= 1 else { throw HyperparameterError("lr_decay must be in (0, 1], got \(value)") }
      spec.lrDecay = Float(decay)
    case .featureStage:
      guard case .text(let stage) = value else { throw HyperparameterError("feature_stage must be a stage name, got \(value)") }
      spec.featureStage = stage
    case .lr: spec.training.learningRate = Float(try number(value, positive: true))
    case .batchSize: spec.training.batchSize = try integer(value, minimum: 1)
    case .epochs: spec.training.epochs = try integer(value, minimum: 1)
    case .weightDecay: spec.training.weightDecay = Float(try number(value, positive: false))
    case .momentum: spec.training.momentum = Float(try number(value, positive: false))
    case .labelSmoothing: spec.training.labelSmoothing = Float(try number(value, positive: false))
    case .dropout: spec.dropout = Float(try number(value, positive: false))
    case .imageSize: spec.imageSize = try integer(value, minimum: 8)
    case .hidden: spec.hidden = try integer(value, minimum: 1)
    case .unfreeze: spec.unfreeze = try integer(value, minimum: 0)
    case .patience: spec.training.patience = try integer(value, minimum: 1)
    case .headEpochs: spec.headEpochs = try integer(value, minimum: 0)
    case .seed: spec.training.seed = UInt64(try integer(value, minimum: 0))
    case .augment:
      guard Augmentation.presets[value.description] != nil else {
        throw HyperparameterError("augment \(value) is not one of \(Augmentation.presets.keys.sorted().joined(separator: ", "))")
      }
      spec.augmentation = value.description
    case .head:
      switch value.description {
      case "linear": (spec.hidden, spec.training.objective) = (nil, .softmax)
      case "ovr": (spec.hidden, spec.training.objective) = (nil, .oneVsRest)
      case "mlp": (spec.hidden, spec.training.objective) = (spec.hidden ?? 256, .softmax)
      default: throw HyperparameterError("head \(value) is not linear, ovr (one-vs-rest sigmoids) or mlp")
      }
    }
  }

  private func choice<T: RawRepresentable & CaseIterable>(_ value: ParameterValue, _ type: T.Type) throws -> T where T.RawValue == String {
    guard let parsed = T(rawValue: value.description) else {
      throw HyperparameterError("\(rawValue) \(value) is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return parsed
  }

  private func number(_ value: ParameterValue, positive: Bool) throws -> Double {
    guard case .number(let number) = value, number.isFinite, positive ? number > 0 : number >= 0 else {
      throw HyperparameterError("\(rawValue) must be a \(positive ? "positive" : "non-negative") number, got \(value)")
    }
    return number
  }

  private func integer(_ value: ParameterValue, minimum: Int) throws -> Int {
    guard case .number(let number) = value, number == number.rounded(), number >= Double(minimum), number < 1e9 else {
      throw HyperparameterError("\(rawValue) must be an integer ≥ \(minimum), got \(value)")
    }
    return Int(number)
  }
}

/// A value that does not suit its hyperparameter.
public struct HyperparameterError: Error, CustomStringConvertible {
  public var description: String
  public init(_ description: String) { self.description = description }
}
