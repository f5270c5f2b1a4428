import Datasets
import Engine
import EngineTestSupport
import Foundation
@testable import Training
import XCTest

/// Heads on features held in memory: the softmax and one-vs-rest objectives both learn
/// separable classes, and one-vs-rest scores come out as probabilities.
final class HeadObjectiveTests: XCTestCase {
  /// Three classes, each a Gaussian blob around its own corner of a 6-D feature space.
  private func batches(count: Int, seed: UInt64) -> FeatureBatches { .separable(count: count, seed: seed) }

  func testOneVsRest_learnsAndPredictsProbabilities() throws {
    for objective in TrainingConfiguration.Objective.allCases {
      var configuration = TrainingConfiguration()
      (configuration.epochs, configuration.learningRate, configuration.objective) = (15, 0.05, objective)
      let head = HeadModel(featureWidth: 6, classes: 3, seed: 1)
      let trainer = Trainer(model: head, configuration: configuration)
      let outcome = try trainer.fit(train: batches(count: 96, seed: 1), validation: batches(count: 48, seed: 2))
      XCTAssertGreaterThan(outcome.bestMetric, 0.9, "\(objective)")
      let predictions = try trainer.predict(batches(count: 12, seed: 3))
      for row in 0..<12 {
        XCTAssertEqual(predictions.probabilities[(row * 3)..<(row * 3 + 3)].reduce(0, +), 1, accuracy: 1e-5, "\(objective) row \(row)")
      }
    }
  }

  /// A run stopped after two of four epochs and resumed from its checkpoint (weights and
  /// the optimizer's moments) ends with exactly the weights of a run never interrupted.
  func testResume_restoresTheOptimizerState() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-resume-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    for optimizer in [TrainingConfiguration.OptimizerKind.adam, .sgd] {
      var configuration = TrainingConfiguration()
      (configuration.epochs, configuration.learningRate, configuration.optimizer) = (4, 0.05, optimizer)
      func trainer(_ checkpoints: URL?) -> Trainer {
        Trainer(model: HeadModel(featureWidth: 6, classes: 3, hidden: 8, dropout: 0, seed: 1), configuration: configuration,
                checkpointFolder: checkpoints)
      }
      let straight = trainer(nil)
      _ = try straight.fit(train: batches(count: 48, seed: 1), validation: batches(count: 12, seed: 2))
      let checkpoints = folder.appendingPathComponent(optimizer.rawValue)
      let interrupted = trainer(checkpoints)
      interrupted.shouldStop = { $0.epoch == 1 }
      _ = try interrupted.fit(train: batches(count: 48, seed: 1), validation: batches(count: 12, seed: 2))
      let saved = try XCTUnwrap(EpochCheckpoint.latest(in: checkpoints))
      XCTAssertTrue(FileManager.default.fileExists(atPath: saved.appendingPathComponent("optimizer.safetensors").path))
      let resumed = trainer(checkpoints)
      let outcome = try resumed.fit(train: batches(count: 48, seed: 1), validation: batches(count: 12, seed: 2))
      XCTAssertEqual(outcome.history.count, 4)
      XCTAssertEqual(resumed.model.trainingNetwork.namedParameters().map(\.parameter.value.scalars),
                     straight.model.trainingNetwork.namedParameters().map(\.parameter.value.scalars), "\(optimizer)")
    }
  }

  /// An epoch's checkpoint is one unit: stopped before any of its four files (as a kill
  /// between two writes would), the run resumes from the previous complete epoch and ends
  /// with exactly the weights of an uninterrupted run, leaving no temporary folder.
  func testKilledBetweenAnyTwoCheckpointWrites_resumesBitExactly() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-kill-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    var configuration = TrainingConfiguration()
    (configuration.epochs, configuration.learningRate, configuration.optimizer) = (4, 0.05, .adam)
    func trainer(_ checkpoints: URL?) -> Trainer {
      Trainer(model: HeadModel(featureWidth: 6, classes: 3, hidden: 8, dropout: 0, seed: 1), configuration: configuration,
              checkpointFolder: checkpoints)
    }
    func weights(_ trainer: Trainer) -> [[Float]] { trainer.model.trainingNetwork.namedParameters().map(\.parameter.value.scalars) }
    let straight = trainer(nil)
    let reference = try straight.fit(train: batches(count: 48, seed: 1), validation: batches(count: 12, seed: 2))
    struct Killed: Error {}
    try withEvery("killed before", in: ["last.safetensors", "optimizer.safetensors", "best.safetensors", "state.json"]) { file in
      let checkpoints = folder.appendingPathComponent(file)
      let interrupted = trainer(checkpoints)
      var writes = 0
      interrupted.checkpointWillWrite = { name in
        writes += 1
        if writes > 8 && name == file { throw Killed() }  // during epoch 2's checkpoint
      }
      XCTAssertThrowsError(try interrupted.fit(train: batches(count: 48, seed: 1), validation: batches(count: 12, seed: 2)))
      XCTAssertEqual(EpochCheckpoint.latest(in: checkpoints)?.lastPathComponent, "epoch-1", "epoch 2 was never complete")
      let resumed = trainer(checkpoints)
      let outcome = try resumed.fit(train: batches(count: 48, seed: 1), validation: batches(count: 12, seed: 2))
      func timeless(_ outcome: TrainingOutcome) -> TrainingOutcome {
        var copy = outcome
        for index in copy.history.indices { copy.history[index].seconds = 0 }
        return copy
      }
      XCTAssertEqual(timeless(outcome), timeless(reference))
      XCTAssertEqual(weights(resumed), weights(straight))
      XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: checkpoints.path), ["epoch-3"])
    }
  }

  func testOneVsRest_refusesClassWeights() throws {
    var configuration = TrainingConfiguration()
    (configuration.epochs, configuration.objective) = (1, .oneVsRest)
    let trainer = Trainer(model: HeadModel(featureWidth: 6, classes: 3, seed: 1), configuration: configuration)
    trainer.classWeights = [1, 2, 1]
    XCTAssertThrowsError(try trainer.fit(train: batches(count: 16, seed: 1), validation: batches(count: 8, seed: 2))) {
      XCTAssertEqual("\($0)", "class_weight and label_smoothing apply to the softmax head, not one-vs-rest")
    }
  }
}
