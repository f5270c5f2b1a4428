extension TrainingRun {
  /// The `scratch` strategy: every weight random and trainable, trained on the images.
  func runFromScratch() throws -> RunResult {
    let backbone = try makeBackbone()
    let outcome = try fitOnImages(backbone, spec.training, phase: .train)
    let best = try reloadBest(backbone, phase: .train)
    let trainer = Trainer(model: backbone, configuration: spec.training)
    return try results(outcome, trainer: trainer, checkpoint: best) { loader($0, for: backbone, augment: false, view: $1) }
  }
}
