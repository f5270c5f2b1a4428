import Backbones
import Datasets
import Engine
import Foundation
@testable import Training
import XCTest

/// The learning-rate range test: exponential rates, a debiased smoothed loss, a stop on
/// divergence, and the two suggestions; `lr: find` trains at the steepest descent and a
/// resumed run reuses the pass it recorded.
final class LearningRateFinderTests: XCTestCase {
  /// A loss that falls fastest at step 40 (of a smooth curve), bottoms out at step 70 and
  /// then explodes: the pass stops on the explosion, the steepest descent is near step 40
  /// and the minimum's tenth a tenth of the rate there.
  func testSuggestions_followTheSmoothedCurve_andDivergenceStopsThePass() {
    var finder = LearningRateFinder()
    (finder.steps, finder.smoothing) = (100, 0)  // no smoothing: the curve is the loss itself
    var result = LearningRateFinder.Result(), average: Float = 0
    var index = 0
    while index < 100 {
      let x = Float(index)
      let loss = index <= 70 ? 2 - 1.5 / (1 + exp(-(x - 40) / 6)) : 0.5 + pow(x - 70, 2)
      guard finder.record(loss, rate: finder.rate(at: index), into: &result, average: &average) else { break }
      index += 1
    }
    XCTAssertTrue(result.diverged)
    XCTAssertLessThan(result.rates.count, 100)
    XCTAssertEqual(result.rates[0], 1e-7, accuracy: 1e-12)
    XCTAssertEqual(result.rates[1] / result.rates[0], pow(1e8, 1 / 99), accuracy: 1e-3, "exponential steps")
    let steepest = try? XCTUnwrap(result.steepest)
    XCTAssertEqual(steepest.map { log10($0) } ?? 0, log10(finder.rate(at: 40)), accuracy: 0.1)
    let minimum = try? XCTUnwrap(result.minimumIndex)
    XCTAssertEqual(minimum.map { abs($0 - 70) <= 1 }, true, "\(String(describing: minimum))")
    XCTAssertEqual(result.minimumTenth ?? 0, result.rates[minimum ?? 0] / 10)
  }

  func testANonFiniteLoss_stopsThePass_andALossThatNeverFalls_suggestsNothing() {
    let finder = LearningRateFinder()
    var result = LearningRateFinder.Result(), average: Float = 0
    XCTAssertTrue(finder.record(2, rate: 1e-7, into: &result, average: &average))
    XCTAssertFalse(finder.record(.nan, rate: 1e-6, into: &result, average: &average))
    XCTAssertTrue(result.diverged)
    var flat = LearningRateFinder.Result()
    average = 0
    for index in 0..<50 { _ = finder.record(2.08, rate: finder.rate(at: index), into: &flat, average: &average) }
    XCTAssertNil(flat.minimumIndex)
    XCTAssertNil(flat.suggestion, "a loss that never falls suggests no rate")
  }

  /// The pass on a real head over overlapping classes: rates grow, the smoothed loss first
  /// falls, then rises again as SGD's rate nears 10; the suggestion lies where the loss fell,
  /// not in the noise of the first steps.
  func testTheFinderOnAHead_fallsThenRises() throws {
    var rng = SeededGenerator(seed: 4)
    var values: [Float] = [], labels: [Int] = [], samples: [Dataset.Sample] = []
    for index in 0..<96 {
      let label = index % 3
      values += (0..<6).map { dimension in (dimension / 2 == label ? 1 : 0) + rng.nextNormal() * 1.5 }
      labels.append(label)
      samples.append(Dataset.Sample(path: "\(index).png", label: label))
    }
    let train = FeatureBatches(features: Tensor(shape: [96, 6], values: values), labels: labels, samples: samples, batchSize: 16, seed: 1)
    var configuration = TrainingConfiguration()
    (configuration.optimizer, configuration.momentum) = (.sgd, 0.9)
    let found = try Trainer(model: HeadModel(featureWidth: 6, classes: 3, seed: 1), configuration: configuration).findLearningRate(train: train)
    let lowest = try XCTUnwrap(found.smoothed.min())
    XCTAssertGreaterThan(found.smoothed.last!, lowest, "the loss rises again at the largest rates")
    XCTAssertEqual(found.rates, found.rates.sorted())
    let suggestion = try XCTUnwrap(found.suggestion)
    XCTAssertGreaterThan(suggestion, found.rates[found.rates.count / 10])
    XCTAssertLessThan(suggestion, found.rates.last!)
    let minimum = try XCTUnwrap(found.minimumIndex)
    XCTAssertLessThan(found.smoothed[minimum], 0.99 * found.smoothed[0])
  }

  /// `lr: find` on the features strategy: the run trains at the pass's steepest descent,
  /// records the pass beside its checkpoints, and a second run of the same folder reads it
  /// back instead of searching again.
  func testLrFind_trainsAtTheSuggestion_andAResumedRunReusesThePass() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-lrfind-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    try DemoDataset(imagesPerClass: 4, testImagesPerClass: 0, size: 48).write(to: folder.appendingPathComponent("data"))
    let dataset = try DatasetAdapter.naturalImages.load(root: folder.appendingPathComponent("data"))
    var spec = RunSpec(backbone: .efficientNetLite0, strategy: .features)
    (spec.training.epochs, spec.training.batchSize, spec.imageSize, spec.augmentation, spec.lrFind) = (1, 8, 48, "none", true)
    let split = try Split(dataset, spec: .perClass(train: 3, validation: 1, test: 0), seed: 0)
    var chosen: [Float] = []
    for _ in 0..<2 {
      var run = TrainingRun(spec: spec, dataset: dataset, split: split, folder: folder.appendingPathComponent("run"))
      run.featureCache = FeatureCache(folder: folder.appendingPathComponent("features"))
      run.observers = [{ event in if case let .learningRateFound(_, rate) = event { chosen.append(rate) } }]
      let result = try run.run()
      let file = try XCTUnwrap(result.learningRateFinder)
      XCTAssertEqual(file.lastPathComponent, "lr-find.json")
      let stored = try JSONDecoder().decode(LearningRateFinder.Result.self, from: Data(contentsOf: file))
      XCTAssertEqual(chosen.last, stored.steepest)
      XCTAssertGreaterThan(stored.rates.count, 10)
    }
    XCTAssertEqual(chosen.count, 2)
    XCTAssertEqual(chosen[0], chosen[1], "the resumed run trains at the recorded rate")
  }
}
