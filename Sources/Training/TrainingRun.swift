import Backbones
import Datasets
import Engine
import Foundation
import Imaging

/// The results of a finished run: the best epoch's model scored on validation and test,
/// its probabilities for the unlabelled images, and the files it came from.
public struct RunResult: Sendable {
  public var outcome: TrainingOutcome
  /// The best epoch's model on the validation split.
  public var validation: Evaluation
  /// The best epoch's model on the labelled test split (nil without one).
  public var test: Evaluation?
  /// Probabilities for the unlabelled images, for submissions.
  public var unlabelled: Predictions?
  /// The best epoch's weights (nil when the run kept no checkpoints).
  public var checkpoint: URL?
  /// The pretrained weights the run started from (nil for `scratch`).
  public var pretrainedWeights: URL?
}

/// Runs one spec on one dataset split: builds the backbone (pretrained weights unless
/// `scratch`), replaces its classifier, freezes by strategy, trains, reloads the best
/// epoch, then scores the test split and predicts the unlabelled images.
public struct TrainingRun {
  public var spec: RunSpec
  public var dataset: Dataset
  public var split: Split
  public var weights: WeightLocator
  /// Where checkpoints go (resumable when the run is interrupted); nil keeps none.
  public var folder: URL?
  public var observers: [(TrainingEvent) -> Void] = []
  /// Asked after every epoch of the final phase whether to stop (a sweep's pruning rule).
  public var shouldStop: ((EpochSummary) -> Bool)?
  /// Decoded images shared by every loader of the run.
  private let cache = ImageCache()
  /// Where the `features` strategy keeps the trunk's features between runs.
  public var featureCache = FeatureCache()

  public init(spec: RunSpec, dataset: Dataset, split: Split, weights: WeightLocator = WeightLocator(), folder: URL? = nil) {
    (self.spec, self.dataset, self.split, self.weights, self.folder) = (spec, dataset, split, weights, folder)
  }

  /// Trains and evaluates.
  ///
  /// - Throws: ``TrainingError`` for a combination that cannot run or missing weights, and
  ///   the errors of loading, training and checkpoints.
  public func run() throws -> RunResult {
    guard spec.strategy.applies(to: spec.backbone) else {
      throw TrainingError("\(spec.backbone.rawValue) has no pretrained weights: only the scratch strategy applies")
    }
    guard Augmentation.presets[spec.augmentation] != nil else {
      throw TrainingError("unknown augmentation \(spec.augmentation); choose one of \(Augmentation.presets.keys.sorted().joined(separator: ", "))")
    }
    if spec.strategy == .features { return try runOnFeatures() }
    let backbone = try makeBackbone()
    let outcome: TrainingOutcome
    if spec.strategy == .finetune {
      backbone.freezeTrunk()
      var headPhase = spec.training
      headPhase.epochs = spec.headEpochs
      if spec.headEpochs > 0 && spec.augmentation == "none" {
        try trainHeadOnCachedFeatures(backbone, headPhase)
      } else if spec.headEpochs > 0 {
        _ = try phase(backbone, headPhase, name: "head", final: false)
      }
      backbone.freeze(allBut: spec.unfreeze)
      if let decay = spec.lrDecay { backbone.setDiscriminativeRates(decay: decay) }
      let tune = spec.finetuneTraining
      let frozenStages = backbone.stages.count - spec.unfreeze
      if spec.augmentation == "none" && frozenStages >= 1 {
        outcome = try finetuneOnCachedActivations(backbone, tune, after: backbone.stages[frozenStages - 1].name)
      } else {
        outcome = try phase(backbone, tune, name: "finetune")
      }
    } else {
      outcome = try phase(backbone, spec.training, name: "train")
    }
    let best = try reloadBest(backbone, phase: spec.strategy == .finetune ? "finetune" : "train")
    let trainer = Trainer(backbone: backbone, configuration: spec.training)
    return try results(outcome, trainer: trainer, checkpoint: best) { loader($0, for: backbone, augment: false) }
  }

  /// Loads the best epoch's weights of `phase` into `model` when the run kept checkpoints.
  private func reloadBest(_ model: any TrainableModel, phase: String) throws -> URL? {
    guard let best = folder?.appendingPathComponent("\(phase)/best.safetensors"), FileManager.default.fileExists(atPath: best.path) else {
      return nil
    }
    try model.trainingNetwork.load(Checkpoint(contentsOf: best))
    return best
  }

  /// Scores the (reloaded best) model on validation and test and predicts the unlabelled images.
  private func results(_ outcome: TrainingOutcome, trainer: Trainer, checkpoint: URL?,
                       source: ([Dataset.Sample]) throws -> any BatchSource) throws -> RunResult {
    let validation = try trainer.score(source(split.validation.map { dataset.samples[$0] }))
    let test = split.test.isEmpty ? nil : try trainer.score(source(split.test.map { dataset.samples[$0] }))
    let unlabelled = dataset.unlabelled.isEmpty ? nil : try trainer.predict(source(dataset.unlabelled))
    return RunResult(outcome: outcome, validation: validation, test: test, unlabelled: unlabelled, checkpoint: checkpoint,
                     pretrainedWeights: spec.strategy == .scratch ? nil : weights.locate(spec.backbone))
  }

  /// The `features` strategy: the frozen trunk's pooled features of every image, from the
  /// feature cache (computed once per backbone, weights, preprocessing and image list),
  /// then a head trained on them.
  /// The backbone is built (and its weights loaded) only when some features are missing
  /// from the cache, so heads on a cached split cost no trunk at all.
  private func runOnFeatures() throws -> RunResult {
    let digest = try weightsDigest()
    var built: Backbone?
    func backbone() throws -> Backbone {
      if let built { return built }
      let made = try makeBackbone()
      made.freezeTrunk()
      built = made
      return made
    }
    func features(_ samples: [Dataset.Sample], copies: AugmentedCopies? = nil) throws -> FeatureBatches {
      try cachedFeatures(samples, stage: spec.featureStage, digest: digest, copies: copies, makeBackbone: backbone)
    }
    let copies = (spec.augmentCopies ?? 0) > 0
      ? AugmentedCopies(count: spec.augmentCopies!, augmentation: Augmentation.presets[spec.augmentation]!, name: spec.augmentation,
                        seed: spec.training.seed)
      : nil
    let train = try features(split.train.map { dataset.samples[$0] }, copies: copies)
    let head = HeadModel(featureWidth: train.features.shape[1], classes: dataset.classNames.count, hidden: spec.hidden,
                         dropout: spec.dropout, initialization: spec.headInitialization, seed: spec.training.seed &+ 1)
    let trainer = Trainer(backbone: head, configuration: spec.training, checkpointFolder: folder?.appendingPathComponent("train"))
    trainer.observers = observers
    trainer.classWeights = classWeights
    trainer.shouldStop = shouldStop
    let outcome = try trainer.fit(train: train, validation: try features(split.validation.map { dataset.samples[$0] }))
    let best = try reloadBest(head, phase: "train")
    return try results(outcome, trainer: trainer, checkpoint: best, source: { try features($0) })
  }

  /// The loss weights of the training split's classes (nil unless `class_weight: balanced`).
  private var classWeights: [Float]? {
    spec.training.classWeights(labels: split.train.compactMap { dataset.samples[$0].label }, classes: dataset.classNames.count)
  }

  /// The frozen trunk's features of `samples` from the feature cache, as batches.
  private func cachedFeatures(_ samples: [Dataset.Sample], stage: String?, digest: String, copies: AugmentedCopies? = nil,
                              makeBackbone: () throws -> Backbone) throws -> FeatureBatches {
    let (values, labels, kept) = try featureCache.features(
      of: samples, in: dataset, backbone: spec.backbone, stage: stage, preprocessing: preprocessing, weightsDigest: digest,
      copies: copies, batchSize: spec.training.batchSize, makeBackbone: makeBackbone)
    return FeatureBatches(features: values, labels: labels, samples: kept, batchSize: spec.training.batchSize, seed: spec.training.seed)
  }

  /// Fine-tuning's first phase without augmentation: the new classifier trains on the frozen
  /// trunk's cached pooled features (those of a `features` run on the same split are reused),
  /// so the trunk runs once per image instead of once per image and epoch.
  private func trainHeadOnCachedFeatures(_ backbone: Backbone, _ configuration: TrainingConfiguration) throws {
    _ = try fitOnCache(ClassifierHead(backbone), configuration, stage: nil, backbone: backbone, phase: "head", final: false)
  }

  /// Fine-tuning's second phase without augmentation: the unfrozen top trains on cached
  /// activations of the frozen stages (the output of `stage`), computed once per image and
  /// shared by every run on the same backbone, weights, split and freeze point.
  private func finetuneOnCachedActivations(_ backbone: Backbone, _ configuration: TrainingConfiguration, after stage: String) throws
    -> TrainingOutcome
  {
    try fitOnCache(TopModel(try BackboneTop(backbone, after: stage)), configuration, stage: stage, backbone: backbone, phase: "finetune")
  }

  /// Trains `model` on the cached outputs of `backbone`'s frozen part (pooled features, or
  /// the activations after `stage`) for the training and validation splits.
  private func fitOnCache(_ model: any TrainableModel, _ configuration: TrainingConfiguration, stage: String?, backbone: Backbone,
                          phase: String, final: Bool = true) throws -> TrainingOutcome {
    let digest = try weightsDigest()
    func cached(_ indices: [Int]) throws -> FeatureBatches {
      try cachedFeatures(indices.map { dataset.samples[$0] }, stage: stage, digest: digest, makeBackbone: { backbone })
    }
    let trainer = Trainer(backbone: model, configuration: configuration, checkpointFolder: folder?.appendingPathComponent(phase))
    trainer.observers = observers
    trainer.classWeights = classWeights
    if final { trainer.shouldStop = shouldStop }
    return try trainer.fit(train: try cached(split.train), validation: try cached(split.validation))
  }

  /// The SHA-256 of the weights file: the prefix its official name carries (checked when it
  /// was fetched), else computed.
  private func weightsDigest() throws -> String {
    guard let file = weights.locate(spec.backbone) else { return "none" }
    return try PretrainedWeights.hashPrefix(inFileName: file.lastPathComponent) ?? SHA256Digest.hex(ofFile: file)
  }

  /// The backbone's preprocessing at the run's image size.
  private var preprocessing: Preprocessing {
    var preprocessing = spec.backbone.preprocessing
    preprocessing.inputSize = spec.imageSize ?? preprocessing.inputSize
    if case .resizeThenCenterCrop = preprocessing.crop { preprocessing.crop = .resizeThenCenterCrop(resize: preprocessing.inputSize * 8 / 7) }
    return preprocessing
  }

  private func makeBackbone() throws -> Backbone {
    var rng = SeededGenerator(seed: spec.training.seed)
    let architecture = spec.backbone == .smallCNN
      ? SmallCNN.make(inputSize: preprocessing.inputSize, classes: dataset.classNames.count, rng: &rng)
      : spec.backbone.architecture(classes: 1000, rng: &rng)
    let backbone = Backbone(spec.backbone, architecture: architecture, preprocessing: preprocessing)
    if spec.strategy != .scratch {
      guard let file = weights.locate(spec.backbone) else {
        throw TrainingError("no pretrained weights for \(spec.backbone.rawValue): run `podium weights fetch \(spec.backbone.rawValue)`")
      }
      try backbone.loadPretrained(Checkpoint(contentsOf: file), includeClassifier: false)
    }
    if backbone.classCount != dataset.classNames.count {
      backbone.replaceClassifier(classes: dataset.classNames.count, initialization: spec.headInitialization, seed: spec.training.seed &+ 1)
    }
    return backbone
  }

  private func phase(_ backbone: Backbone, _ configuration: TrainingConfiguration, name: String, final: Bool = true) throws -> TrainingOutcome {
    let trainer = Trainer(backbone: backbone, configuration: configuration, checkpointFolder: folder?.appendingPathComponent(name))
    trainer.observers = observers
    trainer.classWeights = classWeights
    if final { trainer.shouldStop = shouldStop }
    return try trainer.fit(train: loader(split.train.map { dataset.samples[$0] }, for: backbone, augment: true),
                           validation: loader(split.validation.map { dataset.samples[$0] }, for: backbone, augment: false))
  }

  private func loader(_ samples: [Dataset.Sample], for backbone: Backbone, augment: Bool) -> BatchLoader {
    BatchLoader(dataset: dataset, samples: samples, batchSize: spec.training.batchSize, preprocessing: backbone.preprocessing,
                augmentation: augment ? Augmentation.presets[spec.augmentation]! : .none, seed: spec.training.seed, cache: cache)
  }
}
