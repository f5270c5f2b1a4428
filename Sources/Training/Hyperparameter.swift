import Backbones
import Engine
import Imaging

/// Every hyperparameter of a run, by the name a sweep spec uses (`batch_size`) and
/// `podium train` takes as a flag (`--batch-size`): the one table that the spec reader, the
/// command line, validation and the report's settings read.
///
/// Every key belongs to the run's identity: it is stored in the run's parameters, so two runs
/// that differ in it are two runs (`StoredParamsTests` checks each key). Settings that do not
/// change what a run trains — threads, workers, leases — are options of the commands, not keys.
///
/// To add a hyperparameter: a field in ``RunSpec`` (optional, so stored runs keep their
/// bytes), a case here, its row in ``definition``, the flag in `podium train`'s
/// `HyperparameterOptions` (a test checks both lists), and the code that uses it.
public enum Hyperparameter: String, CaseIterable, Sendable {
  case backbone, strategy
  case epochs, batchSize = "batch_size", lr, optimizer, momentum, nesterov, weightDecay = "weight_decay"
  case schedule, warmupEpochs = "warmup_epochs", labelSmoothing = "label_smoothing", classWeight = "class_weight"
  case mixup, cutmix, mixProb = "mix_prob", tta, ema, swaEpochs = "swa_epochs"
  case patience, seed, augment, imageSize = "image_size"
  case head, objective, hidden, dropout, headInit = "head_init", featureStage = "feature_stage", augmentCopies = "augment_copies"
  case headEpochs = "head_epochs", unfreeze, lrDecay = "lr_decay", finetuneOptimizer = "finetune_optimizer"
  case finetuneMomentum = "finetune_momentum", finetuneNesterov = "finetune_nesterov", finetuneRateScale = "finetune_rate_scale"

  /// The row of the table: what values the key takes, its help, and how it reads and sets
  /// a ``RunSpec``.
  public var definition: HyperparameterDefinition {
    typealias D = HyperparameterDefinition
    switch self {
    case .backbone: return D.choice(\.backbone, "the network")
    case .strategy: return D.choice(\.strategy, "scratch (random start), features (frozen trunk, new head) or finetune (head, then top stages)")
    case .epochs: return D.integer(\.training.epochs, minimum: 1, "epochs (of the fine-tuning phase for finetune)")
    case .batchSize: return D.integer(\.training.batchSize, minimum: 1, "images per step")
    case .lr: return D.learningRate
    case .optimizer: return D.choice(\.training.optimizer, "the optimizer (of the head phase for finetune)")
    case .momentum: return D.number(\.training.momentum, .nonNegative, "SGD's momentum")
    case .nesterov: return D.flag(\.training.nesterov, "Nesterov momentum for SGD")
    case .weightDecay: return D.number(\.training.weightDecay, .nonNegative, "weight decay (decoupled for adamw)")
    case .schedule: return D.choice(\.training.schedule, "the learning-rate schedule")
    case .warmupEpochs: return D.integer(\.training.warmupEpochs, minimum: 0, "epochs of linear warm-up before the schedule")
    case .labelSmoothing: return D.number(\.training.labelSmoothing, .fraction, "label smoothing of the cross-entropy")
    case .classWeight: return D.choice(\.training.classWeight, "balanced weights classes by inverse frequency")
    case .mixup: return D.number(\.training.mixupAlpha, .nonNegative, "mixup's alpha: blend each batch with itself reversed by λ ~ Beta(α, α) (0: off)")
    case .cutmix: return D.number(\.training.cutmixAlpha, .nonNegative, "CutMix's alpha: paste a box of the reversed batch, area 1 − λ (0: off)")
    case .tta: return D.choice(\.tta, "test-time augmentation: none, flip (image and mirror) or flip5crop (ten crops), probabilities averaged")
    case .mixProb: return D.number(\.training.mixProbability, .unitInterval, "the share of batches mixed when mixup or cutmix is on (default 1)")
    case .ema: return D.number(\.training.emaDecay, .fraction, "decay of an exponential moving average of the weights, evaluated and kept beside them; its horizon 1/(1 − decay) steps should be well under the run's (0: off)")
    case .swaEpochs: return D.integer(\.training.swaEpochs, minimum: 0, "stochastic weight averaging over this many last epochs, batch-norm statistics recomputed (0: off)")
    case .patience: return D.integer(\.training.patience, minimum: 1, "stop after this many epochs without improvement (default: never)")
    case .seed: return D.seed
    case .augment: return D.augment
    case .imageSize: return D.integer(\.imageSize, minimum: 8, "square input side (default: the backbone's)")
    case .head: return D.head
    case .objective: return D.choice(\.training.objective, "softmax, or ovr: one sigmoid per class with binary cross-entropy")
    case .hidden: return D.integer(\.hidden, minimum: 1, "hidden width of an MLP head (default: a linear head)")
    case .dropout: return D.number(\.dropout, .fraction, "dropout of the MLP head")
    case .headInit: return D.choice(\.headInit, "the new classifier's start (default: zero on pretrained features, uniform for scratch)")
    case .featureStage: return D.name(\.featureStage, "features: the flattened activations after this stage (e.g. stage6, layer3)")
    case .augmentCopies: return D.integer(\.augmentCopies, minimum: 0, "features: augmented passes over the training images, cached")
    case .headEpochs: return D.integer(\.headEpochs, minimum: 0, "finetune: epochs of head-only training first")
    case .unfreeze: return D.integer(\.unfreeze, minimum: 0, "finetune: stages to unfreeze from the top")
    case .lrDecay: return D.number(\.lrDecay, .unitInterval, "finetune: each lower unfrozen stage trains at this factor of the rate above")
    case .finetuneOptimizer: return D.choice(\.finetuneOptimizer, "finetune: the fine-tuning phase's optimizer (default: sgd)")
    case .finetuneMomentum: return D.number(\.finetuneMomentum, .nonNegative, "finetune: the fine-tuning phase's momentum (default: 0.9)")
    case .finetuneNesterov: return D.flag(\.finetuneNesterov, "finetune: Nesterov momentum in the fine-tuning phase (default: as nesterov)")
    case .finetuneRateScale: return D.number(\.finetuneRateScale, .positive, "finetune: the fine-tuning rate as a fraction of lr")
    }
  }

  /// Checks `value` against the table and sets it on `spec`.
  ///
  /// - Throws: ``HyperparameterError`` saying what the key takes.
  public func apply(_ value: ParameterValue, to spec: inout RunSpec) throws {
    do {
      try definition.assign(value, &spec)
    } catch let problem as HyperparameterProblem {
      throw HyperparameterError(self, problem.text)
    }
  }

  /// The key's value in `spec`, or nil where unset (the default then depends on the run).
  public func value(in spec: RunSpec) -> ParameterValue? {
    definition.read(spec)
  }
}

/// One row of the hyperparameter table.
public struct HyperparameterDefinition: Sendable {
  /// The values a key takes, in words for help and errors: `one of sgd, adam, adamw`,
  /// `an integer ≥ 1`, `a number in (0, 1]`.
  public let domain: String
  /// What the key does, for `--help` and the spec reference.
  public let help: String
  let assign: @Sendable (ParameterValue, inout RunSpec) throws -> Void
  let read: @Sendable (RunSpec) -> ParameterValue?

  /// The values a number may take.
  enum NumberRange {
    case positive, nonNegative, fraction, unitInterval

    func contains(_ x: Double) -> Bool {
      switch self {
      case .positive: return x > 0
      case .nonNegative: return x >= 0
      case .fraction: return x >= 0 && x < 1
      case .unitInterval: return x > 0 && x <= 1
      }
    }

    var words: String {
      switch self {
      case .positive: return "a number > 0"
      case .nonNegative: return "a number ≥ 0"
      case .fraction: return "a number in [0, 1)"
      case .unitInterval: return "a number in (0, 1]"
      }
    }
  }
}

/// What is wrong with a value, before the key is named.
struct HyperparameterProblem: Error {
  var text: String
}

// MARK: - Row builders

extension HyperparameterDefinition {
  static func number<V: BinaryFloatingPoint & Sendable>(
    _ path: WritableKeyPath<RunSpec, V> & Sendable, _ range: NumberRange, _ help: String
  ) -> Self {
    Self(domain: range.words, help: help, assign: { value, spec in spec[keyPath: path] = V(try parseNumber(value, range)) },
         read: { .number(shortest($0[keyPath: path])) })
  }

  static func number<V: BinaryFloatingPoint & Sendable>(
    _ path: WritableKeyPath<RunSpec, V?> & Sendable, _ range: NumberRange, _ help: String
  ) -> Self {
    Self(domain: range.words, help: help, assign: { value, spec in spec[keyPath: path] = V(try parseNumber(value, range)) },
         read: { $0[keyPath: path].map { .number(shortest($0)) } })
  }

  static func integer(_ path: WritableKeyPath<RunSpec, Int> & Sendable, minimum: Int, _ help: String) -> Self {
    Self(domain: "an integer ≥ \(minimum)", help: help, assign: { value, spec in spec[keyPath: path] = try parseInteger(value, minimum) },
         read: { .number(Double($0[keyPath: path])) })
  }

  static func integer(_ path: WritableKeyPath<RunSpec, Int?> & Sendable, minimum: Int, _ help: String) -> Self {
    Self(domain: "an integer ≥ \(minimum)", help: help, assign: { value, spec in spec[keyPath: path] = try parseInteger(value, minimum) },
         read: { $0[keyPath: path].map { .number(Double($0)) } })
  }

  static func choice<T: RawRepresentable & CaseIterable & Sendable>(
    _ path: WritableKeyPath<RunSpec, T> & Sendable, _ help: String
  ) -> Self where T.RawValue == String {
    Self(domain: words(T.allCases.map(\.rawValue)), help: help, assign: { value, spec in spec[keyPath: path] = try parseChoice(value) },
         read: { .text($0[keyPath: path].rawValue) })
  }

  static func choice<T: RawRepresentable & CaseIterable & Sendable>(
    _ path: WritableKeyPath<RunSpec, T?> & Sendable, _ help: String
  ) -> Self where T.RawValue == String {
    Self(domain: words(T.allCases.map(\.rawValue)), help: help, assign: { value, spec in spec[keyPath: path] = try parseChoice(value) },
         read: { $0[keyPath: path].map { .text($0.rawValue) } })
  }

  static func flag(_ path: WritableKeyPath<RunSpec, Bool> & Sendable, _ help: String) -> Self {
    Self(domain: words(["true", "false"]), help: help, assign: { value, spec in spec[keyPath: path] = try parseFlag(value) },
         read: { .text(String($0[keyPath: path])) })
  }

  static func flag(_ path: WritableKeyPath<RunSpec, Bool?> & Sendable, _ help: String) -> Self {
    Self(domain: words(["true", "false"]), help: help, assign: { value, spec in spec[keyPath: path] = try parseFlag(value) },
         read: { $0[keyPath: path].map { .text(String($0)) } })
  }

  static func name(_ path: WritableKeyPath<RunSpec, String?> & Sendable, _ help: String) -> Self {
    Self(domain: "a stage name", help: help, assign: { value, spec in
      guard case .text(let name) = value, !name.isEmpty else { throw HyperparameterProblem(text: "must be a stage name, got \(value)") }
      spec[keyPath: path] = name
    }, read: { $0[keyPath: path].map(ParameterValue.text) })
  }

  /// The learning rate, or `find`: the learning-rate finder's suggestion, found when the run
  /// starts (``RunSpec/lrFind``).
  static var learningRate: Self {
    Self(domain: "a number > 0, or find", help: "learning rate (of the head phase for finetune); find: the learning-rate finder's suggestion",
         assign: { value, spec in
           if case .text("find") = value {
             spec.lrFind = true
             return
           }
           guard case .number(let number) = value, number.isFinite, number > 0 else {
             throw HyperparameterProblem(text: "must be a number > 0 or find, got \(value)")
           }
           (spec.training.learningRate, spec.lrFind) = (Float(number), nil)
         },
         read: { $0.lrFind == true ? .text("find") : .number(shortest($0.training.learningRate)) })
  }

  /// The run's seed: weights, data order, augmentation and dropout all derive from it.
  static var seed: Self {
    Self(domain: "an integer ≥ 0", help: "the seed of weights, data order, augmentation and dropout",
         assign: { value, spec in spec.training.seed = UInt64(try parseInteger(value, 0)) },
         read: { .number(Double($0.training.seed)) })
  }

  /// An augmentation preset by name.
  static var augment: Self {
    let names = Augmentation.presets.keys.sorted()
    return Self(domain: words(names), help: "the augmentation preset of training images", assign: { value, spec in
      guard Augmentation.presets[value.description] != nil else { throw HyperparameterProblem(text: "must be \(words(names)), got \(value)") }
      spec.augmentation = value.description
    }, read: { .text($0.augmentation) })
  }

  /// The head in one word: `linear` (softmax), `ovr` (one sigmoid per class) or `mlp` (a
  /// hidden layer of `hidden`, 256 unless set).
  static var head: Self {
    Self(domain: words(["linear", "ovr", "mlp"]), help: "features: a linear softmax, one-vs-rest sigmoids, or an MLP head",
         assign: { value, spec in
           switch value.description {
           case "linear": (spec.hidden, spec.training.objective) = (nil, .softmax)
           case "ovr": (spec.hidden, spec.training.objective) = (nil, .oneVsRest)
           case "mlp": (spec.hidden, spec.training.objective) = (spec.hidden ?? 256, .softmax)
           default: throw HyperparameterProblem(text: "must be linear, ovr (one-vs-rest sigmoids) or mlp, got \(value)")
           }
         },
         read: { $0.hidden != nil ? .text("mlp") : .text($0.training.objective == .oneVsRest ? "ovr" : "linear") })
  }
}

// MARK: - Value checks

/// A Float field as the Double its shortest decimal spells (`0.001`, not `0.0010000000474974513`).
private func shortest<V: BinaryFloatingPoint>(_ value: V) -> Double {
  Double("\(value)") ?? Double(value)
}

private func words(_ choices: [String]) -> String { "one of \(choices.joined(separator: ", "))" }

private func parseNumber(_ value: ParameterValue, _ range: HyperparameterDefinition.NumberRange) throws -> Double {
  guard case .number(let number) = value, number.isFinite, range.contains(number) else {
    throw HyperparameterProblem(text: "must be \(range.words), got \(value)")
  }
  return number
}

private func parseInteger(_ value: ParameterValue, _ minimum: Int) throws -> Int {
  guard case .number(let number) = value, number == number.rounded(), number >= Double(minimum), number < 1e9 else {
    throw HyperparameterProblem(text: "must be an integer ≥ \(minimum), got \(value)")
  }
  return Int(number)
}

private func parseChoice<T: RawRepresentable & CaseIterable>(_ value: ParameterValue) throws -> T where T.RawValue == String {
  guard let parsed = T(rawValue: value.description) else {
    throw HyperparameterProblem(text: "must be \(words(T.allCases.map(\.rawValue))), got \(value)")
  }
  return parsed
}

private func parseFlag(_ value: ParameterValue) throws -> Bool {
  switch value.description {
  case "true": return true
  case "false": return false
  default: throw HyperparameterProblem(text: "must be true or false, got \(value)")
  }
}
