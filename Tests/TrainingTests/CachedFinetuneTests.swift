import Backbones
import Datasets
import Engine
import Foundation
import Imaging
import Training
import XCTest

/// Fine-tuning the top of a backbone on cached activations of its frozen stages is the
/// same training as running the whole network every step: same batches, same updates.
final class CachedFinetuneTests: XCTestCase {
  func testTrainingTheTopOnCachedActivations_matchesTrainingThroughTheWholeNetwork() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-top-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    try DemoDataset(imagesPerClass: 3, testImagesPerClass: 0, size: 32).write(to: folder)
    let dataset = try DatasetAdapter.naturalImages.load(root: folder)
    let split = try Split(dataset, spec: .perClass(train: 2, validation: 1, test: 0), seed: 0)
    let preprocessing = Preprocessing(inputSize: 32, crop: .resizeThenCenterCrop(resize: 32), mean: [127, 127, 127], std: [64, 64, 64])
    func backbone() -> Backbone {
      var rng = SeededGenerator(seed: 3)
      let made = Backbone(.resnet18, architecture: BackboneName.resnet18.architecture(classes: 8, rng: &rng), preprocessing: preprocessing)
      made.freeze(allBut: 1)
      return made
    }
    var configuration = TrainingConfiguration()
    (configuration.epochs, configuration.batchSize, configuration.optimizer, configuration.learningRate) = (2, 8, .sgd, 0.01)
    func loader(_ indices: [Int]) -> BatchLoader {
      BatchLoader(dataset: dataset, samples: indices.map { dataset.samples[$0] }, batchSize: 8, preprocessing: preprocessing, seed: 0)
    }
    let whole = backbone()
    let direct = try Trainer(model: whole, configuration: configuration).fit(train: loader(split.train), validation: loader(split.validation))

    let cached = backbone()
    let cache = FeatureCache(folder: folder.appendingPathComponent("cache"))
    func activations(_ indices: [Int]) throws -> FeatureBatches {
      let (values, labels, samples) = try cache.features(
        of: indices.map { dataset.samples[$0] }, in: dataset, backbone: .resnet18, stage: "layer3", preprocessing: preprocessing,
        weightsDigest: "random", batchSize: 8, makeBackbone: { cached })
      return FeatureBatches(features: values, labels: labels, samples: samples, batchSize: 8, seed: 0)
    }
    let top = try BackboneTop(cached, after: "layer3")
    XCTAssertEqual(top.stage, "layer4")
    XCTAssertEqual(top.inputShape, [2, 2, 256])
    let onCache = try Trainer(model: TopModel(top), configuration: configuration)
      .fit(train: try activations(split.train), validation: try activations(split.validation))

    for (a, b) in zip(direct.history, onCache.history) {
      XCTAssertEqual(a.trainLoss, b.trainLoss, accuracy: 1e-4 * max(1, abs(a.trainLoss)))
      XCTAssertEqual(a.validationLoss, b.validationLoss, accuracy: 1e-4 * max(1, abs(a.validationLoss)))
    }
    let trained = Dictionary(uniqueKeysWithValues: whole.network.namedParameters().map { ($0.name, $0.parameter.value.scalars) })
    for (name, parameter) in cached.network.namedParameters() where name.hasPrefix("layer4") || name.hasPrefix("fc") {
      let reference = trained[name]!
      let scale = reference.map(abs).max() ?? 1
      let difference = zip(parameter.value.scalars, reference).map { abs($0 - $1) }.max() ?? 0
      XCTAssertLessThan(difference, 1e-4 * max(scale, 1e-3), name)
    }
    XCTAssertNotEqual(cached.network.namedParameters().first { $0.name == "fc.weight" }!.parameter.value.scalars,
                      backbone().network.namedParameters().first { $0.name == "fc.weight" }!.parameter.value.scalars, "it trained")
  }
}
