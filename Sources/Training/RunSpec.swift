import Backbones
import Engine
import Foundation

/// Everything that defines one run: which backbone and strategy, and the hyperparameters.
///
/// Each field is set by one entry of ``Hyperparameter``'s table, by the same name in a
/// sweep spec and in `podium train`. The stored form (``canonicalJSON()``) leaves out
/// optional fields that are unset, so runs planned before a field existed keep their
/// stored parameters byte for byte.
public struct RunSpec: Codable, Equatable, Sendable {
  public var backbone: BackboneName
  public var strategy: Strategy
  public var training = TrainingConfiguration()
  public var augmentation = "light"
  /// Epochs of head-only training before fine-tuning (fine-tune only).
  public var headEpochs = 1
  /// Stages unfrozen in the fine-tuning phase, counted from the top.
  public var unfreeze = 1
  /// The fine-tuning phase's learning rate as a fraction of the head's.
  public var finetuneRateScale: Float = 0.1
  /// finetune: the fine-tuning phase's optimizer; nil: SGD (the seed recipe).
  public var finetuneOptimizer: TrainingConfiguration.OptimizerKind?
  /// finetune: the fine-tuning phase's momentum; nil: 0.9.
  public var finetuneMomentum: Float?
  /// finetune: Nesterov momentum in the fine-tuning phase; nil: as `training.nesterov`.
  public var finetuneNesterov: Bool?
  /// finetune: discriminative learning rates — each unfrozen stage below the classifier
  /// trains at this factor times the rate of the one above it; nil: one rate for all.
  public var lrDecay: Float?
  /// Square input side; nil uses the backbone's.
  public var imageSize: Int?
  /// features: the head on the cached features — a linear softmax (nil) or an MLP with
  /// this hidden width and `dropout`.
  public var hidden: Int?
  public var dropout: Float = 0.5
  /// features: the flattened "bottleneck" activations after this stage instead of the
  /// pooled features (e.g. `stage6` of efficientnet_lite0, `layer3` of a ResNet).
  public var featureStage: String?
  /// features: augmented passes over the training images (with `augmentation`) whose
  /// features are cached and trained on beside the plain ones; nil or 0 for none.
  public var augmentCopies: Int?
  /// How the new classifier starts; nil takes the strategy's default (``headInitialization``).
  public var headInit: LinearInitialization?
  /// Test-time augmentation of validation (at the best epoch), test and unlabelled
  /// predictions; nil: none.
  public var tta: TestTimeAugmentation?
  /// `lr: find`: the learning rate is the steepest-descent suggestion of the range test
  /// (``LearningRateFinder``) run when the run starts; nil: `training.learningRate`.
  public var lrFind: Bool?
  /// Under cross-validation, the fold this run holds out (validates and predicts out of
  /// fold on); nil for a run on the sweep's one split. Not a hyperparameter: a sweep's `cv:`
  /// plans one run per fold of every configuration, and the fold is part of each run's
  /// identity so that each is claimed, resumed and stored on its own.
  public var fold: Int?

  public init(backbone: BackboneName, strategy: Strategy) {
    (self.backbone, self.strategy) = (backbone, strategy)
  }

  /// How the new classifier starts: `headInit` when set, else zeros on pretrained features
  /// (Big Transfer's rule: every seed starts from the same uniform prediction, and the
  /// first steps point each class at its own images' features instead of unlearning a
  /// random projection) and PyTorch's uniform draw for `scratch`.
  public var headInitialization: LinearInitialization {
    headInit ?? (strategy == .scratch ? .uniform : .zero)
  }

  /// The fine-tuning phase's configuration: the run's, with the fine-tuning optimizer,
  /// momentum and Nesterov setting, at `finetuneRateScale` times the rate.
  public var finetuneTraining: TrainingConfiguration {
    var tune = training
    tune.optimizer = finetuneOptimizer ?? .sgd
    tune.momentum = finetuneMomentum ?? 0.9
    tune.nesterov = finetuneNesterov ?? training.nesterov
    tune.learningRate = training.learningRate * finetuneRateScale
    return tune
  }

  /// The same run with its fold left out: what the fold runs of one configuration share.
  public var configuration: RunSpec {
    var spec = self
    spec.fold = nil
    return spec
  }

  /// The stored form: JSON with sorted keys, unset optional fields left out. Equal specs
  /// give equal bytes, so the store recognises a run it already planned.
  public func canonicalJSON() throws -> String {
    try CanonicalJSON.string(self)
  }

  /// Why this combination cannot run, as a phrase (`no pretrained weights`), or nil when it can.
  public var cannotRunBecause: String? {
    if !strategy.applies(to: backbone) { return "no pretrained weights" }
    if strategy == .features, (training.cutmixAlpha ?? 0) > 0 {
      return "cutmix pastes image regions, and features trains on feature vectors (mixup applies to them)"
    }
    if (training.emaDecay ?? 0) > 0, (training.swaEpochs ?? 0) > 0 {
      return "ema and swa_epochs both average the weights: choose one"
    }
    if backbone == .smallCNN, let imageSize, imageSize < SmallCNN.minimumInputSize {
      return "small_cnn needs image_size of at least \(SmallCNN.minimumInputSize), got \(imageSize)"
    }
    return nil
  }
}
