import Engine
import Foundation

extension TrainingRun {
  /// The learning-rate range test for this run's model, data and optimizer, on a model built
  /// for it and thrown away: the whole network for `scratch`, a new head on the frozen trunk's
  /// cached features for `features` and `finetune` (whose `lr` is the head phase's).
  public func findLearningRate(_ finder: LearningRateFinder = LearningRateFinder()) throws -> LearningRateFinder.Result {
    switch spec.strategy {
    case .scratch:
      let backbone = try makeBackbone()
      return try Trainer(model: backbone, configuration: spec.training)
        .findLearningRate(train: loader(samples(split.train), for: backbone, augment: true), finder: finder)
    case .features, .finetune:
      let (head, train, _) = try featureTraining()
      return try Trainer(model: head, configuration: spec.training).findLearningRate(train: train, finder: finder)
    }
  }

  /// The finder's pass for `lr: find`: read back from `lr-find.json` in the run's folder when
  /// an earlier attempt wrote it (so a resumed run trains at the same rate), else run and
  /// written there.
  func learningRateFinderPass() throws -> (LearningRateFinder.Result, URL?) {
    let file = folder?.appendingPathComponent("lr-find.json")
    let (encoder, decoder) = (JSONEncoder(), JSONDecoder())
    // A diverged pass ends on a non-finite loss, which JSON has no number for.
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    if let file, let data = try? Data(contentsOf: file), let stored = try? decoder.decode(LearningRateFinder.Result.self, from: data) {
      return (stored, file)
    }
    let found = try findLearningRate()
    if let file { try AtomicFile.write(try encoder.encode(found), to: file) }
    return (found, file)
  }
}
