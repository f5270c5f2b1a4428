import Backbones
import Datasets
import Engine
import Foundation
import Imaging
import Training
import XCTest

final class TrainerTests: XCTestCase {
  private var folder: URL!

  override func setUpWithError() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-trainer-\(UUID().uuidString)")
    let demo = DemoDataset(imagesPerClass: 6, testImagesPerClass: 0, size: 32)
    try demo.write(to: folder.appendingPathComponent("data"))
  }

  override func tearDown() { try? FileManager.default.removeItem(at: folder) }

  private let preprocessing = Preprocessing(inputSize: 32, crop: .resizeThenCenterCrop(resize: 32), mean: [127, 127, 127], std: [128, 128, 128])

  private func setUp(_ configuration: TrainingConfiguration, checkpoints: URL? = nil) throws -> (Trainer, BatchLoader, BatchLoader) {
    let dataset = try DatasetAdapter.naturalImages.load(root: folder.appendingPathComponent("data"))
    let split = try Split(dataset, spec: .perClass(train: 4, validation: 2, test: 0), seed: 1)
    var rng = SeededGenerator(seed: 2)
    let backbone = Backbone(.smallCNN, architecture: SmallCNN.make(inputSize: 32, classes: 8, rng: &rng), preprocessing: preprocessing)
    func loader(_ indices: [Int]) -> BatchLoader {
      BatchLoader(dataset: dataset, samples: indices.map { dataset.samples[$0] }, batchSize: 8, preprocessing: preprocessing, seed: 3)
    }
    return (Trainer(model: backbone, configuration: configuration, checkpointFolder: checkpoints), loader(split.train), loader(split.validation))
  }

  func testFit_recordsEveryEpochAndTheBest() throws {
    var configuration = TrainingConfiguration()
    (configuration.epochs, configuration.learningRate) = (3, 3e-3)
    let (trainer, train, validation) = try setUp(configuration)
    var events: [String] = []
    trainer.observers.append { event in if case .epochEnded = event { events.append("epoch") } }
    let outcome = try trainer.fit(train: train, validation: validation)
    XCTAssertEqual(outcome.history.map(\.epoch), [0, 1, 2])
    XCTAssertEqual(events.count, 3)
    XCTAssertTrue(outcome.history.allSatisfy { $0.trainLoss.isFinite && $0.validation.confusion.count == 8 })
    XCTAssertEqual(outcome.bestMetric, outcome.history.map(\.validation.accuracy).max())
  }

  /// A run interrupted after two epochs continues from its checkpoint with the same history.
  func testResume_continuesAfterTheLastFinishedEpoch() throws {
    let checkpoints = folder.appendingPathComponent("run")
    var configuration = TrainingConfiguration()
    configuration.epochs = 2
    let first = try setUp(configuration, checkpoints: checkpoints)
    let partial = try first.0.fit(train: first.1, validation: first.2)
    let latest = try XCTUnwrap(EpochCheckpoint.latest(in: checkpoints))
    XCTAssertEqual(latest.lastPathComponent, "epoch-1")
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: checkpoints.path), ["epoch-1"], "older epochs are removed")
    for file in ["last.safetensors", "optimizer.safetensors", "best.safetensors", "state.json"] {
      XCTAssertTrue(FileManager.default.fileExists(atPath: latest.appendingPathComponent(file).path), file)
    }
    configuration.epochs = 3
    let second = try setUp(configuration, checkpoints: checkpoints)
    var resumedAt = -1, restored: [Int] = [], ended: [Int] = []
    second.0.observers.append { event in
      switch event {
      case .fitStarted(_, _, let at): resumedAt = at
      case .epochRestored(let summary): restored.append(summary.epoch)
      case .epochEnded(let summary): ended.append(summary.epoch)
      default: break
      }
    }
    let outcome = try second.0.fit(train: second.1, validation: second.2)
    XCTAssertEqual(resumedAt, 2)
    XCTAssertEqual(restored, [0, 1], "the checkpoint's epochs are reported again, for a store that missed one")
    XCTAssertEqual(ended, [2])
    XCTAssertEqual(outcome.history.count, 3)
    XCTAssertEqual(Array(outcome.history.prefix(2)), partial.history)
  }

  /// Stopped at the start of its third epoch (as a kill would) and resumed, a run with
  /// dropout ends with exactly the weights of the same run never stopped.
  func testAResumedRun_endsWithTheWeightsOfAnUninterruptedOne() throws {
    var configuration = TrainingConfiguration()
    (configuration.epochs, configuration.learningRate) = (3, 3e-3)
    let whole = try setUp(configuration, checkpoints: folder.appendingPathComponent("whole"))
    _ = try whole.0.fit(train: whole.1, validation: whole.2)

    let checkpoints = folder.appendingPathComponent("stopped")
    let stopped = try setUp(configuration, checkpoints: checkpoints)
    var batches = 0
    let limit = 2 * stopped.1.batchCount  // the closure must not hold the trainer it is stored in
    stopped.0.interruption = {
      batches += 1
      if batches > limit { throw TrainingError("stopped") }
    }
    XCTAssertThrowsError(try stopped.0.fit(train: stopped.1, validation: stopped.2))
    let resumed = try setUp(configuration, checkpoints: checkpoints)
    _ = try resumed.0.fit(train: resumed.1, validation: resumed.2)

    let expected = whole.0.model.trainingNetwork.namedParameters(), actual = resumed.0.model.trainingNetwork.namedParameters()
    XCTAssertEqual(actual.map(\.name), expected.map(\.name))
    for ((name, want), (_, got)) in zip(expected, actual) {
      let differing = zip(got.value.scalars, want.value.scalars).filter { $0 != $1 }.count
      XCTAssertEqual(differing, 0, "\(name): \(differing) of \(want.value.count) values differ")
    }
  }

  /// Without a checkpoint folder (`podium train` without `--out`) a run still scores its best
  /// epoch's weights on validation and test, not its last epoch's.
  func testARunWithoutAFolder_scoresItsBestEpoch_notItsLast() throws {
    let dataset = try DatasetAdapter.naturalImages.load(root: folder.appendingPathComponent("data"))
    let split = try Split(dataset, spec: .perClass(train: 4, validation: 2, test: 0), seed: 1)
    var spec = RunSpec(backbone: .smallCNN, strategy: .scratch)
    (spec.training.epochs, spec.training.learningRate, spec.training.schedule, spec.imageSize) = (6, 0.01, .constant, 32)
    let result = try TrainingRun(spec: spec, dataset: dataset, split: split).run()
    XCTAssertNotEqual(result.outcome.bestEpoch, result.outcome.history.count - 1, "this run's last epoch is not its best")
    XCTAssertEqual(result.validation.metrics, result.outcome.history[result.outcome.bestEpoch].validation)
    XCTAssertNil(result.checkpoint, "the temporary checkpoints are gone")
  }

  func testEarlyStopping_stopsAfterPatienceEpochsWithoutImprovement() throws {
    var configuration = TrainingConfiguration()
    (configuration.epochs, configuration.learningRate, configuration.patience) = (6, 0, 2)
    let (trainer, train, validation) = try setUp(configuration)
    let outcome = try trainer.fit(train: train, validation: validation)
    XCTAssertTrue(outcome.stoppedEarly)
    XCTAssertEqual(outcome.history.count, 3, "best at epoch 1, no improvement in epochs 2 and 3")
  }

  func testDivergingLoss_failsWithOneClearLine() throws {
    var configuration = TrainingConfiguration()
    (configuration.epochs, configuration.optimizer, configuration.learningRate, configuration.schedule) = (2, .sgd, 1e12, .constant)
    let (trainer, train, validation) = try setUp(configuration)
    XCTAssertThrowsError(try trainer.fit(train: train, validation: validation)) {
      XCTAssertTrue("\($0)".hasPrefix("loss became"), "\($0)")
    }
  }
}

final class TrainingRunTests: XCTestCase {
  /// The features strategy with the real EfficientNet-Lite0 trunk: a head trains on cached
  /// features, and a second run on the same key computes no trunk forward pass at all.
  func testFeaturesStrategy_trainsAHeadOnCachedFeatures_andTheSecondRunExtractsNothing() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-run-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let demo = DemoDataset(imagesPerClass: 4, testImagesPerClass: 1, size: 48)
    try demo.write(to: folder)
    let dataset = try DatasetAdapter.naturalImages.load(root: folder)
    var spec = RunSpec(backbone: .efficientNetLite0, strategy: .features)
    (spec.training.epochs, spec.training.batchSize, spec.imageSize, spec.augmentation) = (1, 16, 48, "none")
    let split = try Split(dataset, spec: .perClass(train: 2, validation: 1, test: 1), seed: 0)
    var run = TrainingRun(spec: spec, dataset: dataset, split: split)
    run.featureCache = FeatureCache(folder: folder.appendingPathComponent("features"))
    let result = try run.run()
    XCTAssertEqual(run.featureCache.extractedImages, 8 * 4 + 8, "train, validation, test and unlabelled images, once each")
    XCTAssertEqual(result.outcome.history.count, 1)
    XCTAssertEqual(result.test?.metrics.confusion.count, 8)
    XCTAssertEqual(result.validation.predictions.samples.count, split.validation.count)
    XCTAssertEqual(result.unlabelled?.samples.count, 8)
    XCTAssertEqual(result.unlabelled?.probabilities.count, 64)
    // Another head (an MLP) on the same split: every feature comes from the cache.
    spec.hidden = 16
    var second = TrainingRun(spec: spec, dataset: dataset, split: split)
    second.featureCache = FeatureCache(folder: folder.appendingPathComponent("features"))
    let again = try second.run()
    XCTAssertEqual(second.featureCache.extractedImages, 0)
    XCTAssertEqual(again.test?.metrics.confusion.count, 8)
    // Fine-tuning without augmentation trains its head on the same cached features: its
    // first phase runs no trunk pass; the second unfreezes the last stage.
    var finetune = RunSpec(backbone: .efficientNetLite0, strategy: .finetune)
    (finetune.training.epochs, finetune.training.batchSize, finetune.imageSize, finetune.augmentation) = (1, 16, 48, "none")
    finetune.headEpochs = 2
    var third = TrainingRun(spec: finetune, dataset: dataset, split: split, folder: folder.appendingPathComponent("finetune-run"))
    third.featureCache = FeatureCache(folder: folder.appendingPathComponent("features"))
    let tuned = try third.run()
    XCTAssertEqual(third.featureCache.extractedImages, 16 + 8, "only the frozen stages' activations of train and validation")
    XCTAssertEqual(tuned.outcome.history.count, 1)
    // Another learning rate on the same freeze point, fine-tuned with Adam: no trunk pass at
    // all, and the fine-tuning phase keeps Adam's two moments per parameter where SGD with
    // momentum keeps one buffer.
    finetune.training.learningRate = 0.01
    finetune.finetuneOptimizer = .adam
    var fourth = TrainingRun(spec: finetune, dataset: dataset, split: split, folder: folder.appendingPathComponent("finetune-run-2"))
    fourth.featureCache = FeatureCache(folder: folder.appendingPathComponent("features"))
    XCTAssertEqual(try fourth.run().outcome.history.count, 1)
    XCTAssertEqual(fourth.featureCache.extractedImages, 0)
    func optimizerBuffers(_ run: String) throws -> Set<String> {
      let epoch = try XCTUnwrap(EpochCheckpoint.latest(in: folder.appendingPathComponent("\(run)/finetune")))
      let state = try Checkpoint(contentsOf: epoch.appendingPathComponent("optimizer.safetensors"))
      return Set(state.names.map { String($0.split(separator: ".").last!) })
    }
    XCTAssertEqual(try optimizerBuffers("finetune-run"), ["0"], "SGD momentum by default")
    XCTAssertEqual(try optimizerBuffers("finetune-run-2"), ["0", "1"], "Adam's first and second moments")
    let headState = try XCTUnwrap(EpochCheckpoint.latest(in: folder.appendingPathComponent("finetune-run/head"))).appendingPathComponent("state.json")
    XCTAssertEqual(try JSONDecoder().decode(TrainingOutcomeProbe.self, from: Data(contentsOf: headState)).history.count, 2)
  }

  /// Under cross-validation the frozen trunk runs once over the whole pool: the first fold
  /// extracts every image once, and every other fold cuts its training and validation
  /// features from the same cache entry without a trunk pass.
  func testFeaturesStrategy_underCrossValidation_extractsThePoolOnceForAllFolds() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-cv-run-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    try DemoDataset(imagesPerClass: 3, testImagesPerClass: 1, size: 48).write(to: folder)
    let dataset = try DatasetAdapter.naturalImages.load(root: folder)
    var spec = RunSpec(backbone: .efficientNetLite0, strategy: .features)
    (spec.training.epochs, spec.training.batchSize, spec.imageSize, spec.augmentation) = (1, 16, 48, "none")
    let split = try Split(dataset, spec: .perClass(train: 2, validation: 0, test: 1), seed: 0, crossValidation: CrossValidation(folds: 3))
    var validated = 0
    for fold in 0..<3 {
      var run = TrainingRun(spec: spec, dataset: dataset, split: try split.holdingOut(fold: fold))
      run.featureCache = FeatureCache(folder: folder.appendingPathComponent("features"))
      let result = try run.run()
      XCTAssertEqual(run.featureCache.extractedImages, fold == 0 ? 16 + 8 + 8 : 0, "fold \(fold): pool, test and unlabelled, once")
      XCTAssertEqual(result.validation.predictions.samples.map(\.path), split.folds[fold].map { dataset.samples[$0].path })
      validated += result.validation.predictions.samples.count
    }
    XCTAssertEqual(validated, 16, "every pool image predicted out of fold once")
  }

  /// Fine-tuning with mixup mixes the images, so it trains through the network rather than
  /// on cached activations of its frozen stages (which would mix activations instead).
  func testFinetuneWithMixup_trainsOnImages_notOnCachedActivations() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-mixft-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    try DemoDataset(imagesPerClass: 2, testImagesPerClass: 0, size: 48).write(to: folder)
    let dataset = try DatasetAdapter.naturalImages.load(root: folder)
    var spec = RunSpec(backbone: .efficientNetLite0, strategy: .finetune)
    (spec.training.epochs, spec.training.batchSize, spec.imageSize, spec.augmentation, spec.headEpochs) = (1, 8, 48, "none", 1)
    let split = try Split(dataset, spec: .perClass(train: 1, validation: 1, test: 0), seed: 0)
    func extracted(mixup: Float?) throws -> Int {
      spec.training.mixupAlpha = mixup
      var run = TrainingRun(spec: spec, dataset: dataset, split: split)
      run.featureCache = FeatureCache(folder: folder.appendingPathComponent("features-\(mixup ?? 0)"))
      _ = try run.run()
      return run.featureCache.extractedImages
    }
    XCTAssertGreaterThan(try extracted(mixup: nil), 0, "without mixing both phases train on cached activations")
    XCTAssertEqual(try extracted(mixup: 0.4), 0, "with mixup no activation is cached")
  }

  /// The part of a checkpoint's `state.json` this test reads.
  private struct TrainingOutcomeProbe: Decodable {
    struct Epoch: Decodable { var epoch: Int }
    var history: [Epoch]
  }

  func testPretrainedStrategyOnTheSmallCNN_isRefused() throws {
    let dataset = Dataset(adapter: "image-folder", root: URL(fileURLWithPath: "/tmp"), classNames: ["a", "b"], samples: [],
                          unlabelled: [], skipped: [], presets: [:])
    let run = TrainingRun(spec: RunSpec(backbone: .smallCNN, strategy: .finetune), dataset: dataset,
                          split: try Split(dataset, spec: .fractions(train: 0.5, validation: 0.5, test: 0), seed: 0))
    XCTAssertThrowsError(try run.run()) {
      XCTAssertEqual("\($0)", "small_cnn has no pretrained weights: only the scratch strategy applies")
    }
  }
}
