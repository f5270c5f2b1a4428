import Backbones
import Datasets
import Engine
import Foundation
import Training
import XCTest

/// On pretrained features a run's new classifier starts at zero, so before it has learned
/// anything it predicts every class equally (validation log loss ln K); `head_init: uniform`
/// starts it from PyTorch's random draw instead. Needs the EfficientNet-Lite0 weights.
final class HeadInitializationTests: XCTestCase {
  func testPretrainedRuns_startTheNewClassifierAtZero_unlessAskedForUniform() throws {
    _ = try XCTUnwrap(WeightLocator().locate(.efficientNetLite0),
                      "EfficientNet-Lite0 weights not found: run `swift build && .build/debug/podium weights fetch efficientnet_lite0`")
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-head-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    try DemoDataset(imagesPerClass: 2, testImagesPerClass: 0, size: 32).write(to: folder.appendingPathComponent("data"))
    let dataset = try DatasetAdapter.naturalImages.load(root: folder.appendingPathComponent("data"))
    let split = try Split(dataset, spec: .perClass(train: 1, validation: 1, test: 0), seed: 0)
    let uniformLoss = log(Double(dataset.classNames.count))
    for strategy in [Strategy.features, .finetune] {
      for headInit in [nil, LinearInitialization.uniform] {
        var spec = RunSpec(backbone: .efficientNetLite0, strategy: strategy)
        (spec.imageSize, spec.augmentation, spec.headEpochs, spec.headInit) = (32, "none", 0, headInit)
        (spec.training.epochs, spec.training.learningRate, spec.training.optimizer) = (1, 1e-12, .sgd)
        var run = TrainingRun(spec: spec, dataset: dataset, split: split)
        run.featureCache = FeatureCache(folder: folder.appendingPathComponent("cache"))
        let logLoss = try run.run().validation.metrics.logLoss
        if headInit == nil {
          XCTAssertEqual(logLoss, uniformLoss, accuracy: 1e-5, "\(strategy): a zero head predicts 1/K for every class")
        } else {
          XCTAssertGreaterThan(abs(logLoss - uniformLoss), 1e-3, "\(strategy): a uniform draw is not a uniform prediction")
        }
      }
    }
  }
}
