import Datasets
import Engine
import EngineTestSupport
import Foundation
@testable import Training
import XCTest

/// mixup and CutMix against timm's arithmetic in PyTorch on one batch
/// (scripts/reference/make_mixing_fixtures.py), and the draws they are made with.
final class BatchMixingTests: XCTestCase {
  private struct Fixture: Decodable {
    struct Cutmix: Decodable {
      var centreY, centreX: Int
      var lambda: Float
      var box: [Int]
      var corrected: Float
      var images: [Float]
    }
    var shape: [Int]
    var classes: Int
    var images, logits: [Float]
    var labels: [Int]
    var weights: [Float]
    var lambda: Float
    var mixup: [Float]
    var cutmix: Cutmix
    var weightedLoss: Float
    var weightedGradient: [Float]
    var unweightedLoss, timmSoftTargetLoss: Float
  }

  private func fixture() throws -> Fixture {
    let url = try XCTUnwrap(Bundle.module.url(forResource: "mixing", withExtension: "json", subdirectory: "Fixtures"))
    return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
  }

  func testMixupAndCutmix_mixTheBatchAsTimmDoes() throws {
    let f = try fixture()
    let images = Tensor(shape: f.shape, values: f.images)
    assertClose(BatchMixing.apply(.init(lambda: f.lambda), to: images).scalars, f.mixup, relative: 0, absolute: 1e-6, "mixup")
    let (height, width) = (f.shape[1], f.shape[2])
    let ratio = (1 - f.cutmix.lambda).squareRoot()
    let draw = BatchMixing.cutmix(centreY: f.cutmix.centreY, centreX: f.cutmix.centreX, cutHeight: Int(Float(height) * ratio),
                                  cutWidth: Int(Float(width) * ratio), height: height, width: width)
    XCTAssertEqual(draw.box.map { [$0.top, $0.bottom, $0.left, $0.right] }, f.cutmix.box)
    XCTAssertEqual(draw.lambda, f.cutmix.corrected, accuracy: 1e-6, "λ corrected to the share of the image left")
    XCTAssertEqual(BatchMixing.apply(draw, to: images).scalars, f.cutmix.images, "the box pasted from the reversed batch")
  }

  /// The loss on mixed targets with label smoothing and class weights, and its gradient, as
  /// PyTorch's; unweighted it equals timm's soft-target cross-entropy.
  func testTheLossOnMixedTargets_matchesPyTorch_withSmoothingAndClassWeights() throws {
    let f = try fixture()
    for (weights, expected) in [(Optional(f.weights), f.weightedLoss), (nil, f.unweightedLoss)] {
      var configuration = TrainingConfiguration()
      configuration.labelSmoothing = 0.1
      let trainer = Trainer(model: HeadModel(featureWidth: 2, classes: f.classes, seed: 0), configuration: configuration)
      trainer.classWeights = weights
      var gradient = [Float](repeating: 0, count: f.logits.count)
      let loss = try f.logits.withUnsafeBufferPointer { z in
        try gradient.withUnsafeMutableBufferPointer { d in
          try trainer.mixedLoss(z.baseAddress!, labels: f.labels, draw: .init(lambda: f.lambda), classes: f.classes, d.baseAddress!)
        }
      }
      XCTAssertEqual(loss, expected, accuracy: 1e-5, weights == nil ? "unweighted" : "weighted")
      if weights != nil { assertClose(gradient, f.weightedGradient, relative: 0, absolute: 1e-6, "gradient") }
    }
    XCTAssertEqual(f.unweightedLoss, f.timmSoftTargetLoss, accuracy: 1e-5)
  }

  /// Draws: off when both alphas are 0 or the probability is 0; seeded; mixup only for
  /// features; λ within (0, 1) and Beta(α, α)'s mean ½.
  func testDraws_areSeededAndFollowTheSettings() {
    var rng = SeededGenerator(seed: 1)
    XCTAssertNil(BatchMixing(mixupAlpha: 0, cutmixAlpha: 0).draw(shape: [8, 4, 4, 3], rng: &rng))
    XCTAssertNil(BatchMixing(mixupAlpha: 1, cutmixAlpha: 1, probability: 0).draw(shape: [8, 4, 4, 3], rng: &rng))
    XCTAssertNil(BatchMixing(mixupAlpha: 0, cutmixAlpha: 1).draw(shape: [8, 16], rng: &rng), "no boxes in feature vectors")
    var features = RunSpec(backbone: .efficientNetLite0, strategy: .features)
    features.training.cutmixAlpha = 1
    XCTAssertEqual(features.cannotRunBecause, "cutmix pastes image regions, and features trains on feature vectors (mixup applies to them)")
    var (a, b) = (SeededGenerator(seed: 5), SeededGenerator(seed: 5))
    let both = BatchMixing(mixupAlpha: 0.4, cutmixAlpha: 1)
    XCTAssertEqual(both.draw(shape: [8, 32, 32, 3], rng: &a), both.draw(shape: [8, 32, 32, 3], rng: &b))
    var lambdas: [Float] = [], boxes = 0
    for _ in 0..<2000 {
      guard let draw = both.draw(shape: [8, 32, 32, 3], rng: &rng) else { continue }
      lambdas.append(draw.lambda)
      if draw.box != nil { boxes += 1 }
    }
    XCTAssertEqual(lambdas.count, 2000)
    XCTAssertTrue(lambdas.allSatisfy { $0 >= 0 && $0 <= 1 })
    XCTAssertEqual(Double(boxes) / 2000, 0.5, accuracy: 0.05, "either kind with equal chance")
    let mixupOnly = (0..<4000).compactMap { _ in BatchMixing(mixupAlpha: 0.4, cutmixAlpha: 0).draw(shape: [8, 16], rng: &rng)?.lambda }
    XCTAssertEqual(Double(mixupOnly.reduce(0, +)) / Double(mixupOnly.count), 0.5, accuracy: 0.02, "Beta(α, α) has mean ½")
    let variance = mixupOnly.map { Double(($0 - 0.5) * ($0 - 0.5)) }.reduce(0, +) / Double(mixupOnly.count)
    XCTAssertEqual(variance, 1 / (4 * (2 * 0.4 + 1)), accuracy: 0.01, "Beta(α, α) has variance 1 / (4(2α + 1))")
  }

  /// mixup in training: switched off, the weights are those of plain training; switched on
  /// they differ, and a run stopped after two of four epochs and resumed ends with exactly
  /// the weights of an uninterrupted one (each step's draw is seeded by the run and the step).
  func testMixupInTraining_changesTheWeights_andResumesBitExactly() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-mix-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    var rng = SeededGenerator(seed: 3)
    let values = (0..<(48 * 6)).map { _ in rng.nextNormal() }
    let labels = (0..<48).map { $0 % 3 }
    let samples = (0..<48).map { Dataset.Sample(path: "\($0).png", label: $0 % 3) }
    let train = FeatureBatches(features: Tensor(shape: [48, 6], values: values), labels: labels, samples: samples, batchSize: 8, seed: 1)
    func trained(mixup: Float?, probability: Float? = nil, checkpoints: URL? = nil, stopAfter: Int? = nil) throws -> [[Float]] {
      var configuration = TrainingConfiguration()
      (configuration.epochs, configuration.learningRate, configuration.mixupAlpha, configuration.mixProbability) = (4, 0.05, mixup, probability)
      let trainer = Trainer(model: HeadModel(featureWidth: 6, classes: 3, hidden: 8, dropout: 0, seed: 1), configuration: configuration,
                            checkpointFolder: checkpoints)
      if let stopAfter { trainer.shouldStop = { $0.epoch == stopAfter } }
      _ = try trainer.fit(train: train, validation: train)
      return trainer.model.trainingNetwork.namedParameters().map(\.parameter.value.scalars)
    }
    let plain = try trained(mixup: nil)
    XCTAssertEqual(try trained(mixup: 0), plain, "alpha 0 is off")
    XCTAssertEqual(try trained(mixup: 0.4, probability: 0), plain, "probability 0 is off")
    let mixed = try trained(mixup: 0.4)
    XCTAssertNotEqual(mixed, plain)
    let checkpoints = folder.appendingPathComponent("mix")
    _ = try trained(mixup: 0.4, checkpoints: checkpoints, stopAfter: 1)
    XCTAssertEqual(try trained(mixup: 0.4, checkpoints: checkpoints), mixed, "resumed after two epochs")
  }
}
