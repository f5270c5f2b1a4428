import ArgumentParser
import Training

/// Every key of the hyperparameter table as a `podium train` flag: `batch_size` is
/// `--batch-size`, with the table's help, values and default. Values go through the same
/// ``Hyperparameter/apply(_:to:)`` as a sweep spec's, so the flag and the spec key accept
/// and refuse exactly the same values (a test compares this list with the table).
struct HyperparameterOptions: ParsableArguments {
  @Option(help: .key(.backbone)) var backbone: String
  @Option(help: .key(.strategy)) var strategy: String
  @Option(help: .key(.epochs)) var epochs: String?
  @Option(name: .customLong("batch-size"), help: .key(.batchSize)) var batchSize: String?
  @Option(help: .key(.lr)) var lr: String?
  @Option(help: .key(.optimizer)) var optimizer: String?
  @Option(help: .key(.momentum)) var momentum: String?
  @Option(help: .key(.nesterov)) var nesterov: String?
  @Option(name: .customLong("weight-decay"), help: .key(.weightDecay)) var weightDecay: String?
  @Option(help: .key(.schedule)) var schedule: String?
  @Option(name: .customLong("warmup-epochs"), help: .key(.warmupEpochs)) var warmupEpochs: String?
  @Option(name: .customLong("label-smoothing"), help: .key(.labelSmoothing)) var labelSmoothing: String?
  @Option(name: .customLong("class-weight"), help: .key(.classWeight)) var classWeight: String?
  @Option(help: .key(.mixup)) var mixup: String?
  @Option(help: .key(.cutmix)) var cutmix: String?
  @Option(name: .customLong("mix-prob"), help: .key(.mixProb)) var mixProb: String?
  @Option(help: .key(.tta)) var tta: String?
  @Option(help: .key(.ema)) var ema: String?
  @Option(name: .customLong("swa-epochs"), help: .key(.swaEpochs)) var swaEpochs: String?
  @Option(help: .key(.patience)) var patience: String?
  @Option(help: .key(.seed)) var seed: String?
  @Option(help: .key(.augment)) var augment: String?
  @Option(name: .customLong("image-size"), help: .key(.imageSize)) var imageSize: String?
  @Option(help: .key(.head)) var head: String?
  @Option(help: .key(.objective)) var objective: String?
  @Option(help: .key(.hidden)) var hidden: String?
  @Option(help: .key(.dropout)) var dropout: String?
  @Option(name: .customLong("head-init"), help: .key(.headInit)) var headInit: String?
  @Option(name: .customLong("feature-stage"), help: .key(.featureStage)) var featureStage: String?
  @Option(name: .customLong("augment-copies"), help: .key(.augmentCopies)) var augmentCopies: String?
  @Option(name: .customLong("head-epochs"), help: .key(.headEpochs)) var headEpochs: String?
  @Option(help: .key(.unfreeze)) var unfreeze: String?
  @Option(name: .customLong("lr-decay"), help: .key(.lrDecay)) var lrDecay: String?
  @Option(name: .customLong("finetune-optimizer"), help: .key(.finetuneOptimizer)) var finetuneOptimizer: String?
  @Option(name: .customLong("finetune-momentum"), help: .key(.finetuneMomentum)) var finetuneMomentum: String?
  @Option(name: .customLong("finetune-nesterov"), help: .key(.finetuneNesterov)) var finetuneNesterov: String?
  @Option(name: .customLong("finetune-rate-scale"), help: .key(.finetuneRateScale)) var finetuneRateScale: String?

  /// Each key with the text its flag was given, nil where the flag was left out.
  var given: [(key: Hyperparameter, text: String?)] {
    [(.backbone, backbone), (.strategy, strategy), (.epochs, epochs), (.batchSize, batchSize), (.lr, lr),
     (.optimizer, optimizer), (.momentum, momentum), (.nesterov, nesterov), (.weightDecay, weightDecay),
     (.schedule, schedule), (.warmupEpochs, warmupEpochs), (.labelSmoothing, labelSmoothing), (.classWeight, classWeight),
     (.mixup, mixup), (.cutmix, cutmix), (.mixProb, mixProb), (.tta, tta), (.ema, ema), (.swaEpochs, swaEpochs),
     (.patience, patience), (.seed, seed), (.augment, augment), (.imageSize, imageSize), (.head, head),
     (.objective, objective), (.hidden, hidden), (.dropout, dropout), (.headInit, headInit), (.featureStage, featureStage),
     (.augmentCopies, augmentCopies), (.headEpochs, headEpochs), (.unfreeze, unfreeze), (.lrDecay, lrDecay),
     (.finetuneOptimizer, finetuneOptimizer), (.finetuneMomentum, finetuneMomentum), (.finetuneNesterov, finetuneNesterov),
     (.finetuneRateScale, finetuneRateScale)]
  }

  /// The run these flags describe: the table's defaults, then each given flag in table
  /// order (so `--head mlp --hidden 64` gives a 64-wide MLP whichever comes first).
  ///
  /// - Throws: `ValidationError` naming the flag and what it takes.
  func runSpec(metric: MetricName) throws -> RunSpec {
    assert(Set(given.map(\.key)) == Set(Hyperparameter.allCases) && given.count == Hyperparameter.allCases.count,
           "HyperparameterOptions.given must list every key of the table once")
    var spec = RunSpec(backbone: .smallCNN, strategy: .scratch)
    spec.training.metric = metric
    let texts = Dictionary(uniqueKeysWithValues: given.compactMap { key, text in text.map { (key, $0) } })
    for key in Hyperparameter.allCases {
      guard let text = texts[key] else { continue }
      do {
        try key.apply(ParameterValue(parsing: text), to: &spec)
      } catch let error as HyperparameterError {
        throw ValidationError("--\(error.key.flagName) \(error.problem)")
      }
    }
    guard spec.strategy.applies(to: spec.backbone) else {
      throw ValidationError("\(spec.backbone.rawValue) has no pretrained weights: use --strategy scratch")
    }
    if let reason = spec.cannotRunBecause { throw ValidationError(reason) }
    return spec
  }

  func validate() throws {
    _ = try runSpec(metric: .accuracy)
  }
}

extension Hyperparameter {
  /// The command-line spelling of the key: `batch_size` → `batch-size`.
  var flagName: String { rawValue.replacingOccurrences(of: "_", with: "-") }
}

extension ArgumentHelp {
  /// Help for a key's flag from the table: what it does, the values it takes, and its
  /// default where the default does not depend on the run.
  static func key(_ key: Hyperparameter) -> ArgumentHelp {
    let definition = key.definition
    let defaultValue = key.value(in: RunSpec(backbone: .smallCNN, strategy: .scratch))
    let defaultText = [.backbone, .strategy].contains(key) ? "" : defaultValue.map { "; default \($0)" } ?? ""
    return ArgumentHelp("\(definition.help) (\(definition.domain)\(defaultText)).", valueName: key.rawValue)
  }
}
