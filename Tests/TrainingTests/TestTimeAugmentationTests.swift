import Backbones
import Datasets
import Engine
import Foundation
import Imaging
@testable import Training
import XCTest

/// Test-time augmentation: predictions are the mean of the individually computed views,
/// the plain metrics are kept beside, and the features strategy caches each view's trunk pass.
final class TestTimeAugmentationTests: XCTestCase {
  private var folder: URL!

  override func setUpWithError() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-tta-\(UUID().uuidString)")
    try DemoDataset(imagesPerClass: 3, testImagesPerClass: 1, size: 40).write(to: folder.appendingPathComponent("data"))
  }

  override func tearDown() { try? FileManager.default.removeItem(at: folder) }

  func testViews_areTheCropsAndMirrorsTheyName() {
    var values: [Float] = []
    for y in 0..<14 { for x in 0..<16 { values += [Float(x), Float(y), Float(x * y)] } }
    let image = FloatImage(width: 16, height: 14, values: values)
    let base = Preprocessing(inputSize: 8, crop: .resizeThenCenterCrop(resize: 9), mean: [0, 0, 0], std: [1, 1, 1])
    let views = TestTimeAugmentation.flip5crop.views(of: base)
    XCTAssertEqual(views.count, 10)
    XCTAssertEqual(TestTimeAugmentation.flip.views(of: base).map(\.view.description), ["standard", "standard-flipped"])
    XCTAssertEqual(TestTimeAugmentation.none.views(of: base), [base])
    let resized = image.resized(shorterSide: 9)
    let expected = [resized.centerCropped(width: 8, height: 8), resized.cropped(x: 0, y: 0, width: 8, height: 8),
                    resized.cropped(x: resized.width - 8, y: 0, width: 8, height: 8), resized.cropped(x: 0, y: 1, width: 8, height: 8),
                    resized.cropped(x: resized.width - 8, y: 1, width: 8, height: 8)]
    for (index, crop) in expected.enumerated() {
      XCTAssertEqual(image.evaluationCrop(for: views[2 * index]).values, crop.values, views[2 * index].view.description)
      XCTAssertEqual(image.evaluationCrop(for: views[2 * index + 1]).values, crop.flippedHorizontally().values, views[2 * index + 1].view.description)
    }
  }

  /// A small CNN trained with `tta: flip`: its validation and test probabilities are the mean
  /// of the plain and mirrored predictions of its best weights, computed one view at a time,
  /// and the plain view's metrics are kept.
  func testTTAPredictions_equalTheMeanOfTheViews() throws {
    let dataset = try DatasetAdapter.naturalImages.load(root: folder.appendingPathComponent("data"))
    var spec = RunSpec(backbone: .smallCNN, strategy: .scratch)
    (spec.training.epochs, spec.training.batchSize, spec.imageSize, spec.augmentation, spec.tta) = (2, 8, 32, "none", .flip)
    let split = try Split(dataset, spec: .perClass(train: 2, validation: 1, test: 0), seed: 0)
    let run = TrainingRun(spec: spec, dataset: dataset, split: split, folder: folder.appendingPathComponent("run"))
    let result = try run.run()
    let backbone = try run.makeBackbone()
    try backbone.network.load(Checkpoint(contentsOf: try XCTUnwrap(result.checkpoint)))
    let trainer = Trainer(model: backbone, configuration: spec.training)
    let views = try TestTimeAugmentation.flip.views(of: run.preprocessing).map {
      try trainer.predict(run.loader(run.samples(split.validation), for: backbone, augment: false, view: $0))
    }
    XCTAssertNotEqual(views[0].probabilities, views[1].probabilities, "the mirror is another view")
    let mean = zip(views[0].probabilities, views[1].probabilities).map { ($0 + $1) / 2 }
    XCTAssertEqual(result.validation.predictions.probabilities.count, mean.count)
    for (got, want) in zip(result.validation.predictions.probabilities, mean) { XCTAssertEqual(got, want, accuracy: 1e-6) }
    let plain = ClassificationMetrics(probabilities: views[0].probabilities, labels: views[0].samples.map { $0.label! }, classes: 8)
    XCTAssertEqual(result.withoutTTA?.validation, plain)
    XCTAssertEqual(result.unlabelled?.samples.count, 8, "unlabelled predictions averaged too")
  }

  /// On the features strategy each view's trunk features are cached: a second run with the
  /// same views computes no trunk pass.
  func testFeaturesWithTTA_cachesEachViewsFeatures() throws {
    let dataset = try DatasetAdapter.naturalImages.load(root: folder.appendingPathComponent("data"))
    var spec = RunSpec(backbone: .efficientNetLite0, strategy: .features)
    (spec.training.epochs, spec.training.batchSize, spec.imageSize, spec.augmentation, spec.tta) = (1, 8, 40, "none", .flip)
    let split = try Split(dataset, spec: .perClass(train: 2, validation: 1, test: 0), seed: 0)
    var extracted: [Int] = []
    for hidden in [nil, 16] as [Int?] {
      spec.hidden = hidden
      var run = TrainingRun(spec: spec, dataset: dataset, split: split)
      run.featureCache = FeatureCache(folder: folder.appendingPathComponent("features"))
      let result = try run.run()
      XCTAssertNotNil(result.withoutTTA)
      extracted.append(run.featureCache.extractedImages)
    }
    XCTAssertEqual(extracted, [16 + 2 * 8 + 2 * 8, 0], "train, then validation and unlabelled images in both views; then nothing")
  }
}
