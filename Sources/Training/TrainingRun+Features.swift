import Backbones
import Datasets
import Imaging

extension TrainingRun {
  /// The `features` strategy: the frozen trunk's pooled features of every image, from the
  /// feature cache (computed once per backbone, weights, preprocessing and image list),
  /// then a head trained on them.
  /// The backbone is built (and its weights loaded) only when some features are missing
  /// from the cache, so heads on a cached split cost no trunk at all.
  func runOnFeatures() throws -> RunResult {
    let (head, train, features) = try featureTraining()
    let trainer = makeTrainer(head, spec.training, phase: .train)
    let outcome = try trainer.fit(train: train, validation: try features(samples(split.validation), nil))
    let best = try reloadBest(head, phase: .train)
    return try results(outcome, trainer: trainer, checkpoint: best, source: features)
  }

  /// A new head for the frozen trunk's features, the training images' features (with their
  /// augmented copies), and the features of any other images, all from the feature cache.
  func featureTraining() throws
    -> (head: HeadModel, train: FeatureBatches, features: ([Dataset.Sample], Preprocessing?) throws -> FeatureBatches)
  {
    let digest = try weightsDigest()
    var built: Backbone?
    func backbone() throws -> Backbone {
      if let built { return built }
      let made = try makeBackbone()
      made.freezeTrunk()
      built = made
      return made
    }
    func features(_ samples: [Dataset.Sample], copies: AugmentedCopies? = nil, view: Preprocessing? = nil) throws -> FeatureBatches {
      try cachedFeatures(samples, stage: spec.featureStage, digest: digest, copies: copies, view: view, makeBackbone: backbone)
    }
    let copies = (spec.augmentCopies ?? 0) > 0
      ? AugmentedCopies(count: spec.augmentCopies!, augmentation: Augmentation.presets[spec.augmentation]!, name: spec.augmentation,
                        seed: spec.training.seed)
      : nil
    let train = try features(samples(split.train), copies: copies)
    let head = HeadModel(featureWidth: train.features.shape[1], classes: dataset.classNames.count, hidden: spec.hidden,
                         dropout: spec.dropout, initialization: spec.headInitialization, seed: spec.training.seed &+ 1)
    return (head, train, { try features($0, view: $1) })
  }
}
