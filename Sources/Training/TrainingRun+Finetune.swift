import Backbones

extension TrainingRun {
  /// The `finetune` strategy: the new classifier on the frozen trunk for `head_epochs`,
  /// then the top `unfreeze` stages with it, with the fine-tuning phase's optimizer at its
  /// rate (``RunSpec/finetuneTraining``). Without augmentation or mixing both phases train
  /// on cached outputs of the frozen part, which is the same training at a fraction of the
  /// cost; mixup and CutMix mix the images themselves, so they train through the network.
  func runFinetune() throws -> RunResult {
    let backbone = try makeBackbone()
    backbone.freezeTrunk()
    var headPhase = spec.training
    headPhase.epochs = spec.headEpochs
    (headPhase.emaDecay, headPhase.swaEpochs) = (nil, nil)  // the weights are averaged in the phase the run delivers
    let cached = spec.augmentation == "none" && !spec.training.mixing.isActive
    if spec.headEpochs > 0 && cached {
      _ = try fitOnCache(ClassifierHead(backbone), headPhase, stage: nil, backbone: backbone, phase: .head, final: false)
    } else if spec.headEpochs > 0 {
      _ = try fitOnImages(backbone, headPhase, phase: .head, final: false)
    }
    backbone.freeze(allBut: spec.unfreeze)
    if let decay = spec.lrDecay { backbone.setDiscriminativeRates(decay: decay) }
    let frozenStages = backbone.stages.count - spec.unfreeze
    let outcome: TrainingOutcome
    if cached && frozenStages >= 1 {
      let stage = backbone.stages[frozenStages - 1].name
      outcome = try fitOnCache(TopModel(try BackboneTop(backbone, after: stage)), spec.finetuneTraining, stage: stage,
                               backbone: backbone, phase: .finetune)
    } else {
      outcome = try fitOnImages(backbone, spec.finetuneTraining, phase: .finetune)
    }
    let best = try reloadBest(backbone, phase: .finetune)
    let trainer = Trainer(model: backbone, configuration: spec.training)
    return try results(outcome, trainer: trainer, checkpoint: best) { loader($0, for: backbone, augment: false, view: $1) }
  }

  /// Trains `model` on the cached outputs of `backbone`'s frozen part — its pooled features
  /// for the head phase (shared with `features` runs on the same split), or the activations
  /// after `stage` for the fine-tuning phase (shared by every run on the same backbone,
  /// weights, split and freeze point) — computed once per image instead of once per epoch.
  private func fitOnCache(_ model: any TrainableModel, _ configuration: TrainingConfiguration, stage: String?, backbone: Backbone,
                          phase: TrainingPhase, final: Bool = true) throws -> TrainingOutcome {
    let digest = try weightsDigest()
    func cached(_ indices: [Int]) throws -> FeatureBatches {
      try cachedFeatures(samples(indices), stage: stage, digest: digest, makeBackbone: { backbone })
    }
    return try makeTrainer(model, configuration, phase: phase, final: final)
      .fit(train: try cached(split.train), validation: try cached(split.validation))
  }
}
