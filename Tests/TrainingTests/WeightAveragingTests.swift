import Backbones
import Datasets
import Engine
import EngineTestSupport
import Foundation
@testable import Training
import XCTest

/// `ema: DECAY` (timm's ModelEmaV2) and `swa_epochs: N` (torch's AveragedModel + update_bn):
/// the averages are what they claim to be, they are what each epoch is scored and
/// checkpointed with, and a run killed at any point resumes to exactly the same averages.
final class WeightAveragingTests: XCTestCase {
  private var folder: URL!
  private let train = FeatureBatches.separable(count: 48, seed: 1), validation = FeatureBatches.separable(count: 12, seed: 2)

  override func setUp() {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-averaging-\(UUID().uuidString)")
  }

  override func tearDown() { try? FileManager.default.removeItem(at: folder) }

  /// Linear → BatchNorm → ReLU → Linear on the six-wide features: weights and batch-norm buffers.
  private final class NormalisedMLP: TrainableModel {
    let network: Sequential
    var trainingNetwork: any Layer { network }
    let classCount = 3
    init() {
      var rng = SeededGenerator(seed: 4)
      network = Sequential([Linear(inFeatures: 6, outFeatures: 8, rng: &rng), BatchNorm(channels: 8), Activation(.relu),
                            Linear(inFeatures: 8, outFeatures: 3, rng: &rng)])
    }
    func setTraining(_ training: Bool) { network.setTraining(training) }
  }

  private func trainer(ema: Float? = nil, swa: Int? = nil, epochs: Int = 3, checkpoints: URL? = nil) -> Trainer {
    var configuration = TrainingConfiguration()
    (configuration.epochs, configuration.learningRate, configuration.optimizer, configuration.schedule) = (epochs, 0.05, .sgd, .constant)
    (configuration.emaDecay, configuration.swaEpochs) = (ema, swa)
    return Trainer(model: NormalisedMLP(), configuration: configuration, checkpointFolder: checkpoints)
  }

  private func values(_ network: any Layer) -> [[Float]] { network.namedParameters().map(\.parameter.value.scalars) }

  private func average(in checkpoints: URL) throws -> [[Float]] {
    let file = try XCTUnwrap(EpochCheckpoint.latest(in: checkpoints)).appendingPathComponent("average.safetensors")
    return try Checkpoint(contentsOf: file).readAll().map(\.tensor.scalars)
  }

  /// The EMA is `a ← a + (1 − decay)(w − a)` over the weights after every optimizer step,
  /// starting from the initial weights; every epoch is scored with it, the trained weights'
  /// own score beside; the best checkpoint holds it.
  func testEMA_followsEveryStep_andIsWhatEachEpochIsScoredWith() throws {
    let checkpoints = folder.appendingPathComponent("ema")
    let trainer = trainer(ema: 0.8, checkpoints: checkpoints)
    var expected = values(trainer.model.trainingNetwork), atEpochEnd: [[[Float]]] = []
    trainer.observers.append { [unowned trainer] event in
      if case .epochEnded = event { atEpochEnd.append(expected) }
      guard case .batchEnded = event else { return }
      for (index, current) in self.values(trainer.model.trainingNetwork).enumerated() {
        for i in current.indices { expected[index][i] += (1 - 0.8) * (current[i] - expected[index][i]) }
      }
    }
    let outcome = try trainer.fit(train: train, validation: validation)

    let stored = try average(in: checkpoints)
    for (got, want) in zip(stored, expected) { assertClose(got, want, relative: 0, absolute: 1e-6, "the EMA after 9 steps") }
    XCTAssertNotEqual(stored, values(trainer.model.trainingNetwork), "the average is not the trained weights")
    XCTAssertTrue(outcome.history.allSatisfy { $0.withoutAveraging != nil }, "every epoch also scores the trained weights")

    let scored = NormalisedMLP()
    try scored.network.load(Checkpoint(contentsOf: try XCTUnwrap(EpochCheckpoint.latest(in: checkpoints)).appendingPathComponent("average.safetensors")))
    let metrics = try Trainer(model: scored, configuration: trainer.configuration).evaluate(validation)
    XCTAssertEqual(outcome.history.last?.validation, metrics, "the last epoch is scored with its EMA")
    XCTAssertNotEqual(outcome.history.last?.validation.logLoss, outcome.history.last?.withoutAveraging?.logLoss)
    let best = try Checkpoint(contentsOf: try XCTUnwrap(EpochCheckpoint.latest(in: checkpoints)).appendingPathComponent("best.safetensors"))
    for (got, want) in zip(try best.readAll().map(\.tensor.scalars), atEpochEnd[outcome.bestEpoch]) {
      assertClose(got, want, relative: 0, absolute: 1e-6, "the best checkpoint holds the best epoch's EMA")
    }
  }

  /// `ema: 0` and `swa_epochs: 0` are off: the run is the plain run, bit for bit.
  func testZeroIsOff() throws {
    let plain = trainer(), ema = trainer(ema: 0), swa = trainer(swa: 0)
    let outcome = try plain.fit(train: train, validation: validation)
    for other in [ema, swa] {
      let otherOutcome = try other.fit(train: train, validation: validation)
      XCTAssertEqual(otherOutcome.history.map(\.validation), outcome.history.map(\.validation))
      XCTAssertTrue(otherOutcome.history.allSatisfy { $0.withoutAveraging == nil })
      XCTAssertEqual(values(other.model.trainingNetwork), values(plain.model.trainingNetwork))
    }
  }

  /// SWA over the last two of three epochs: the mean of those epochs' weights; epochs in
  /// the window are scored with it after the batch norms' statistics are recomputed on the
  /// training batches (`update_bn`), the epoch before the window with the trained weights.
  func testSWA_averagesTheLastEpochs_andRecomputesBatchNormStatistics() throws {
    let checkpoints = folder.appendingPathComponent("swa")
    let trainer = trainer(swa: 2, checkpoints: checkpoints)
    var ends: [[[Float]]] = []
    trainer.observers.append { [unowned trainer] event in
      if case .epochEnded = event { ends.append(self.values(trainer.model.trainingNetwork)) }
    }
    let outcome = try trainer.fit(train: train, validation: validation)

    XCTAssertEqual(outcome.history.map { $0.withoutAveraging != nil }, [false, true, true])
    let names = trainer.model.trainingNetwork.namedParameters().map(\.name)
    let stored = try average(in: checkpoints)
    for index in names.indices where !names[index].contains("running") {
      let mean = zip(ends[1][index], ends[2][index]).map { ($0 + $1) / 2 }
      assertClose(stored[index], mean, relative: 0, absolute: 1e-6, "\(names[index]): the mean of epochs 2 and 3")
    }

    let scored = NormalisedMLP()
    try scored.network.load(Checkpoint(contentsOf: try XCTUnwrap(EpochCheckpoint.latest(in: checkpoints)).appendingPathComponent("average.safetensors")))
    let norm = try XCTUnwrap(scored.network.trainingBatchNorms.first)
    let averagedStatistics = norm.runningMean.value
    try scored.network.recomputeBatchNormStatistics(over: train.epoch(2, shuffle: true).map(\.images))
    XCTAssertNotEqual(norm.runningMean.value, averagedStatistics, "the statistics are recomputed, not averaged")
    let metrics = try Trainer(model: scored, configuration: trainer.configuration).evaluate(validation)
    XCTAssertEqual(outcome.history.last?.validation, metrics, "the last epoch is scored with the average and recomputed statistics")
  }

  /// Killed before any file of the third epoch's checkpoint is written — the average's
  /// included — or in the middle of the third epoch, and resumed: the averages, the best
  /// checkpoint and the weights equal an uninterrupted run's, bit for bit.
  func testKilledAnywhere_resumesToExactlyTheUninterruptedAverages() throws {
    struct Killed: Error {}
    for (name, ema, swa) in [("ema", Float(0.8), Int?.none), ("swa", nil, 2)] {
      let whole = folder.appendingPathComponent("\(name)-whole")
      let straight = trainer(ema: ema, swa: swa, epochs: 4, checkpoints: whole)
      let reference = try straight.fit(train: train, validation: validation)
      let files = ["last.safetensors", "optimizer.safetensors", "average.safetensors", "best.safetensors", "state.json", "mid-epoch"]
      try withEvery("\(name) killed before", in: files) { file in
        let checkpoints = folder.appendingPathComponent("\(name)-\(file)")
        let interrupted = trainer(ema: ema, swa: swa, epochs: 4, checkpoints: checkpoints)
        var writes = 0, batches = 0
        interrupted.checkpointWillWrite = { written in
          writes += 1
          if writes > 10 && written == file { throw Killed() }  // during epoch 3's checkpoint
        }
        interrupted.interruption = {
          batches += 1
          if file == "mid-epoch" && batches == 8 { throw Killed() }  // two batches into epoch 3
        }
        XCTAssertThrowsError(try interrupted.fit(train: train, validation: validation))
        XCTAssertEqual(EpochCheckpoint.latest(in: checkpoints)?.lastPathComponent, "epoch-1")
        let resumed = trainer(ema: ema, swa: swa, epochs: 4, checkpoints: checkpoints)
        let outcome = try resumed.fit(train: train, validation: validation)
        XCTAssertEqual(outcome.history.map(\.validation), reference.history.map(\.validation))
        XCTAssertEqual(outcome.history.map(\.withoutAveraging), reference.history.map(\.withoutAveraging))
        XCTAssertEqual(try average(in: checkpoints), try average(in: whole))
        let best = { (folder: URL) in try Checkpoint(contentsOf: EpochCheckpoint.latest(in: folder)!.appendingPathComponent("best.safetensors")).readAll().map(\.tensor.scalars) }
        XCTAssertEqual(try best(checkpoints), try best(whole))
        XCTAssertEqual(values(resumed.model.trainingNetwork), values(straight.model.trainingNetwork))
      }
    }
  }

  /// `finetune` on cached activations with SWA over all its epochs, end to end: the run's validation score —
  /// its best checkpoint reloaded into the whole backbone and run on the images — is the
  /// score its best epoch had with the averaged weights and recomputed statistics.
  func testFinetuneWithSWA_deliversTheAveragedModelItScored() throws {
    let data = folder.appendingPathComponent("data")
    try DemoDataset(imagesPerClass: 4, testImagesPerClass: 0, size: 32).write(to: data)
    let dataset = try DatasetAdapter.naturalImages.load(root: data)
    let split = try Split(dataset, spec: .perClass(train: 3, validation: 1, test: 0), seed: 0)
    var rng = SeededGenerator(seed: 3)
    let weights = folder.appendingPathComponent("mobilenet_v2-random.safetensors")
    try BackboneName.mobilenetV2.architecture(classes: 1000, rng: &rng).network.save(to: weights)
    var spec = RunSpec(backbone: .mobilenetV2, strategy: .finetune)
    (spec.augmentation, spec.imageSize, spec.headEpochs, spec.finetuneRateScale) = ("none", 32, 1, 1)
    (spec.training.epochs, spec.training.batchSize, spec.training.learningRate, spec.training.swaEpochs) = (3, 8, 0.01, 3)
    var run = TrainingRun(spec: spec, dataset: dataset, split: split, weights: WeightLocator(explicitFile: weights),
                          folder: folder.appendingPathComponent("run"))
    run.featureCache = FeatureCache(folder: folder.appendingPathComponent("cache"))
    let result = try run.run()
    let best = result.outcome.history[result.outcome.bestEpoch]
    XCTAssertEqual(result.outcome.history.map { $0.withoutAveraging != nil }, [true, true, true], "every epoch in the window")
    XCTAssertNotEqual(best.validation.logLoss, best.withoutAveraging?.logLoss)
    XCTAssertEqual(result.validation.metrics.accuracy, best.validation.accuracy)
    XCTAssertEqual(result.validation.metrics.logLoss, best.validation.logLoss, accuracy: 1e-4 * best.validation.logLoss)
  }
}
