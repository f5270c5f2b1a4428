import Backbones
import Datasets
import Engine
import Foundation
import Imaging

/// Runs one spec on one dataset split: builds the backbone (pretrained weights unless
/// `scratch`), replaces its classifier, freezes by strategy, trains, reloads the best
/// epoch, then scores the test split and predicts the unlabelled images.
///
/// Each strategy lives in its own file (`TrainingRun+Scratch`, `+Features`, `+Finetune`);
/// this one holds what they share: the backbone, the trainer set-up, the loaders and the
/// final scoring.
public struct TrainingRun {
  public var spec: RunSpec
  public var dataset: Dataset
  public var split: Split
  public var weights: WeightLocator
  /// Where checkpoints go (resumable when the run is interrupted); nil keeps none (the run
  /// checkpoints into a temporary folder that it removes when it ends).
  public var folder: URL?
  public var observers: [(TrainingEvent) -> Void] = []
  /// Asked after every epoch of the final phase whether to stop (a sweep's pruning rule).
  public var shouldStop: ((EpochSummary) -> Bool)?
  /// Called before every training batch of every phase; throws to abandon the run.
  public var interruption: (() throws -> Void)?
  /// Decoded images shared by every loader of the run.
  let cache = ImageCache()
  /// Where the `features` strategy keeps the trunk's features between runs.
  public var featureCache = FeatureCache()
  /// When `folder` holds another run's checkpoints: remove them (a sweep's own run folder)
  /// rather than refuse to start (a folder the user named).
  public var replacesOtherRunsCheckpoints = false

  public init(spec: RunSpec, dataset: Dataset, split: Split, weights: WeightLocator = WeightLocator(), folder: URL? = nil) {
    (self.spec, self.dataset, self.split, self.weights, self.folder) = (spec, dataset, split, weights, folder)
  }

  /// Trains and evaluates.
  ///
  /// - Throws: ``TrainingError`` for a combination that cannot run, `MissingWeightsError`, and
  ///   the errors of loading, training and checkpoints.
  public func run() throws -> RunResult {
    guard folder == nil else { return try runInFolder() }
    // Without a folder the run still checkpoints, into a temporary one removed afterwards, so
    // that what it scores is its best epoch (and, averaging weights, the average), not its last.
    let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("podium-run-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: temporary) }
    var inTemporary = self
    inTemporary.folder = temporary
    var result = try inTemporary.runInFolder()
    result.checkpoint = nil
    return result
  }

  private func runInFolder() throws -> RunResult {
    guard spec.strategy.applies(to: spec.backbone) else {
      throw TrainingError("\(spec.backbone.rawValue) has no pretrained weights: only the scratch strategy applies")
    }
    if let reason = spec.cannotRunBecause { throw TrainingError(reason) }
    guard Augmentation.presets[spec.augmentation] != nil else {
      throw TrainingError("unknown augmentation \(spec.augmentation); choose one of \(Augmentation.presets.keys.sorted().joined(separator: ", "))")
    }
    if let folder, try RunFolderIdentity(spec: spec, dataset: dataset, split: split).claim(folder, replacingOther: replacesOtherRunsCheckpoints) {
      for observer in observers { observer(.otherRunsCheckpointsRemoved(folder: folder.path)) }
    }
    guard spec.lrFind == true else { return try runStrategy() }
    let (found, file) = try learningRateFinderPass()
    guard let rate = found.suggestion else {
      throw TrainingError("the learning-rate finder found no rate to suggest: the loss never fell between \(LearningRateFinder().start) and \(LearningRateFinder().end)")
    }
    for observer in observers { observer(.learningRateFound(found, chosen: rate)) }
    var resolved = self
    resolved.spec.training.learningRate = rate
    var result = try resolved.runStrategy()
    result.learningRateFinder = file
    return result
  }

  private func runStrategy() throws -> RunResult {
    switch spec.strategy {
    case .scratch: return try runFromScratch()
    case .features: return try runOnFeatures()
    case .finetune: return try runFinetune()
    }
  }

  // MARK: - Shared by the strategies

  /// A trainer for `model` in `phase`, checkpointing into the phase's folder, with the
  /// run's observers and class weights, and the pruning rule when it is the final phase.
  func makeTrainer(_ model: any TrainableModel, _ configuration: TrainingConfiguration, phase: TrainingPhase, final: Bool = true) -> Trainer {
    let trainer = Trainer(model: model, configuration: configuration, checkpointFolder: folder?.appendingPathComponent(phase.rawValue))
    trainer.observers = observers
    trainer.classWeights = classWeights
    trainer.interruption = interruption
    if final { trainer.shouldStop = shouldStop }
    return trainer
  }

  /// Loads the best epoch's weights of `phase` into `model` when the run kept checkpoints.
  func reloadBest(_ model: any TrainableModel, phase: TrainingPhase) throws -> URL? {
    guard let epoch = folder.flatMap({ EpochCheckpoint.latest(in: $0.appendingPathComponent(phase.rawValue)) }) else { return nil }
    let best = epoch.appendingPathComponent("best.safetensors")
    try model.trainingNetwork.load(Checkpoint(contentsOf: best))
    return best
  }

  /// Scores the (reloaded best) model on validation and test and predicts the unlabelled
  /// images — with test-time augmentation, each the mean of the views' probabilities, the
  /// plain scores kept beside. `source` gives the batches of some images in one view.
  func results(_ outcome: TrainingOutcome, trainer: Trainer, checkpoint: URL?,
               source: ([Dataset.Sample], Preprocessing) throws -> any BatchSource) throws -> RunResult {
    let views = (spec.tta ?? .none).views(of: preprocessing)
    func predictions(_ samples: [Dataset.Sample]) throws -> (plain: Predictions, views: Predictions) {
      let plain = try trainer.predict(source(samples, preprocessing))
      guard views != [preprocessing] else { return (plain, plain) }
      let each = try views.map { view in view == preprocessing ? plain : try trainer.predict(source(samples, view)) }
      return (plain, try Predictions.mean(each, of: "test-time views"))
    }
    func evaluation(_ indices: [Int]) throws -> (plain: Evaluation, views: Evaluation) {
      let (plain, averaged) = try predictions(samples(indices))
      return (Evaluation(predictions: plain), Evaluation(predictions: averaged))
    }
    let validation = try evaluation(split.validation)
    let test = split.test.isEmpty ? nil : try evaluation(split.test)
    let unlabelled = dataset.unlabelled.isEmpty ? nil : try predictions(dataset.unlabelled).views
    var result = RunResult(outcome: outcome, validation: validation.views, test: test?.views, unlabelled: unlabelled, checkpoint: checkpoint,
                           pretrainedWeights: spec.strategy == .scratch ? nil : weights.locate(spec.backbone))
    if views != [preprocessing] { result.withoutTTA = (validation.plain.metrics, test?.plain.metrics) }
    return result
  }

  /// The dataset's samples at `indices`.
  func samples(_ indices: [Int]) -> [Dataset.Sample] {
    indices.map { dataset.samples[$0] }
  }

  /// The loss weights of the training split's classes (nil unless `class_weight: balanced`).
  var classWeights: [Float]? {
    spec.training.classWeights(labels: split.train.compactMap { dataset.samples[$0].label }, classes: dataset.classNames.count)
  }

  /// The frozen trunk's features of `samples` from the feature cache, as batches. Under
  /// cross-validation the training and validation images of every fold are cut from one
  /// cache entry of the whole pool, since an image's features do not depend on its fold:
  /// k folds cost one extraction, not k.
  func cachedFeatures(_ samples: [Dataset.Sample], stage: String?, digest: String, copies: AugmentedCopies? = nil,
                      view: Preprocessing? = nil, makeBackbone: () throws -> Backbone) throws -> FeatureBatches {
    let wanted = Set(samples.map(\.path))
    let pool = split.crossValidationPool.map(self.samples).flatMap { pool in wanted.isSubset(of: pool.map(\.path)) ? pool : nil }
    var (values, labels, kept) = try featureCache.features(
      of: pool ?? samples, in: dataset, backbone: spec.backbone, stage: stage, preprocessing: view ?? preprocessing, weightsDigest: digest,
      copies: copies, batchSize: spec.training.batchSize, makeBackbone: makeBackbone)
    if pool != nil {
      let rows = kept.indices.filter { wanted.contains(kept[$0].path) }
      (values, labels, kept) = (values.rows(rows), rows.map { labels[$0] }, rows.map { kept[$0] })
    }
    return FeatureBatches(features: values, labels: labels, samples: kept, batchSize: spec.training.batchSize, seed: spec.training.seed)
  }

  /// The SHA-256 of the weights file, computed (once per process and file version), never
  /// taken from the prefix in its name: a file renamed or replaced under an official name
  /// must not be served another file's cached features.
  func weightsDigest() throws -> String {
    guard let file = weights.locate(spec.backbone) else { return "none" }
    return try SHA256Digest.rememberedHex(ofFile: file)
  }

  /// The backbone's preprocessing at the run's image size.
  var preprocessing: Preprocessing {
    var preprocessing = spec.backbone.preprocessing
    preprocessing.inputSize = spec.imageSize ?? preprocessing.inputSize
    if case .resizeThenCenterCrop = preprocessing.crop { preprocessing.crop = .resizeThenCenterCrop(resize: preprocessing.inputSize * 8 / 7) }
    return preprocessing
  }

  /// The backbone with its pretrained weights (unless `scratch`) and a classifier for the
  /// dataset's classes.
  func makeBackbone() throws -> Backbone {
    var rng = SeededGenerator(seed: spec.training.seed)
    let architecture = spec.backbone == .smallCNN
      ? SmallCNN.make(inputSize: preprocessing.inputSize, classes: dataset.classNames.count, rng: &rng)
      : spec.backbone.architecture(classes: 1000, rng: &rng)
    let backbone = Backbone(spec.backbone, architecture: architecture, preprocessing: preprocessing)
    if spec.strategy != .scratch {
      guard let file = weights.locate(spec.backbone) else { throw MissingWeightsError(backbone: spec.backbone, locator: weights) }
      try backbone.loadPretrained(Checkpoint(contentsOf: file), includeClassifier: false)
    }
    if backbone.classCount != dataset.classNames.count {
      backbone.replaceClassifier(classes: dataset.classNames.count, initialization: spec.headInitialization, seed: spec.training.seed &+ 1)
    }
    return backbone
  }

  /// Trains the whole `backbone` (its trainable part) on images from the loader.
  func fitOnImages(_ backbone: Backbone, _ configuration: TrainingConfiguration, phase: TrainingPhase, final: Bool = true) throws
    -> TrainingOutcome
  {
    try makeTrainer(backbone, configuration, phase: phase, final: final)
      .fit(train: loader(samples(split.train), for: backbone, augment: true),
           validation: loader(samples(split.validation), for: backbone, augment: false))
  }

  func loader(_ samples: [Dataset.Sample], for backbone: Backbone, augment: Bool, view: Preprocessing? = nil) -> BatchLoader {
    BatchLoader(dataset: dataset, samples: samples, batchSize: spec.training.batchSize, preprocessing: view ?? backbone.preprocessing,
                augmentation: augment ? Augmentation.presets[spec.augmentation]! : .none, seed: spec.training.seed, cache: cache)
  }
}

/// A stage of training within a run; its raw value names the run's checkpoint folder.
public enum TrainingPhase: String, CaseIterable, Sendable {
  /// The only phase of `scratch` and `features`.
  case train
  /// `finetune`'s first phase: the new classifier on the frozen trunk.
  case head
  /// `finetune`'s second phase: the top stages unfrozen.
  case finetune
}
