import Engine
import EngineTestSupport
import XCTest

/// A small CNN trained with the engine's own layers, loss and optimizer on generated images.
final class EndToEndTrainingTests: XCTestCase {
  private func makeModel(seed: UInt64) -> Sequential {
    var rng = SeededGenerator(seed: seed)
    return Sequential([
      Conv2D(inChannels: 3, outChannels: 8, kernel: 3, padding: .symmetric(1), rng: &rng),
      BatchNorm(channels: 8), Activation(.relu), MaxPool2D(kernel: 2),
      Conv2D(inChannels: 8, outChannels: 16, kernel: 3, padding: .same, rng: &rng),
      BatchNorm(channels: 16), Activation(.relu), GlobalAvgPool(), Dropout(0.1, seed: seed),
      Linear(inFeatures: 16, outFeatures: ToyImages.classCount, rng: &rng),
    ])
  }

  /// One optimizer step on a batch; returns the loss.
  private func trainStep(_ model: Sequential, _ optimizer: any Optimizer, _ batch: (images: Tensor, labels: [Int])) throws -> Float {
    model.zeroGradients()
    let logits = try model(batch.images)
    var dLogits = Tensor(shape: logits.shape)
    let loss = logits.withUnsafeBufferPointer { x in
      dLogits.withUnsafeMutableBufferPointer { d in
        softmaxCrossEntropy(logits: x.baseAddress!, labels: batch.labels, classes: logits.shape[1],
                            labelSmoothing: 0.05, dLogits: d.baseAddress!)
      }
    }
    _ = model.backward(dLogits, needsInputGradient: false)
    optimizer.step()
    return loss
  }

  private func accuracy(_ model: Sequential, _ data: ToyImages) throws -> Double {
    model.setTraining(false)
    defer { model.setTraining(true) }
    let logits = try model(data.images)
    let k = logits.shape[1], values = logits.scalars
    let correct = data.labels.indices.filter { row in
      let scores = values[(row * k)..<((row + 1) * k)]
      return scores.firstIndex(of: scores.max()!)! - row * k == data.labels[row]
    }
    return Double(correct.count) / Double(data.labels.count)
  }

  func testSmallCNN_reachesOver95PercentTrainingAccuracy_withinBoundedSteps() throws {
    let data = ToyImages(count: 64, seed: 1)
    let model = makeModel(seed: 3)
    let optimizer = Adam(model.trainableParameters, learningRate: 0.02)
    var rng = SeededGenerator(seed: 4)
    var steps = 0, best = 0.0
    for _ in 0..<40 where best <= 0.95 {
      for batch in (0..<64).shuffled(using: &rng).chunked(16) {
        _ = try trainStep(model, optimizer, data.batch(batch))
        steps += 1
      }
      best = try accuracy(model, data)
    }
    XCTAssertGreaterThan(best, 0.95, "training accuracy after \(steps) steps")
    XCTAssertGreaterThan(try accuracy(model, ToyImages(count: 64, seed: 99)), 0.9, "held-out toy images")
  }

  func testTraining_sameSeedGivesBitIdenticalWeightsAndLosses() throws {
    let data = ToyImages(count: 32, seed: 5)
    func run() throws -> (losses: [Float], weights: [Tensor]) {
      let model = makeModel(seed: 7)
      let optimizer = SGD(model.trainableParameters, learningRate: 0.05, momentum: 0.9, nesterov: true)
      let losses = try (0..<4).map { step in
        try trainStep(model, optimizer, data.batch(Array((step * 8)..<(step * 8 + 8))))
      }
      return (losses, model.namedParameters().map(\.parameter.value))
    }
    let (first, second) = (try run(), try run())
    XCTAssertEqual(first.losses, second.losses)
    XCTAssertEqual(first.weights, second.weights)
    XCTAssertNotEqual(first.losses.first, first.losses.last, "the steps changed the model")
  }
}

extension Array {
  /// Consecutive slices of at most `size` elements.
  func chunked(_ size: Int) -> [[Element]] {
    stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
  }
}
