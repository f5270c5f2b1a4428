@testable import Engine
import EngineTestSupport
import XCTest

/// Without gradient recording, layers keep nothing for backward: an activation is freed as
/// soon as the next layer has read it (what makes inference hold two activations, not all).
final class GradientRecordingTests: XCTestCase {
  func network() -> Sequential {
    var rng = SeededGenerator(seed: 1)
    return Sequential([
      Conv2D(inChannels: 3, outChannels: 4, kernel: 3, rng: &rng), BatchNorm(channels: 4), Activation(.relu),
      MaxPool2D(kernel: 2), Flatten(), Linear(inFeatures: 3 * 3 * 4, outFeatures: 2, rng: &rng),
    ])
  }

  /// Whether the network still holds the input's storage after a forward pass.
  private func retainsInput(_ model: Sequential, recording: Bool) throws -> Bool {
    weak var storage: TensorStorage?
    try {
      let input = Tensor(shape: [2, 8, 8, 3], repeating: 0.5)
      storage = input.storage
      if recording { _ = try model(input) } else { _ = try GradientRecording.withoutGradients { try model(input) } }
    }()
    return storage != nil
  }

  func testWithoutGradients_layersKeepNothing_andRecordingResumesAfterwards() throws {
    let model = network()
    XCTAssertTrue(try retainsInput(model, recording: true), "the first convolution keeps its input for backward")
    XCTAssertFalse(try retainsInput(model, recording: false))
    XCTAssertTrue(GradientRecording.isEnabled)
    XCTAssertTrue(try retainsInput(model, recording: true))
    // And recording works as before: a backward pass after a recorded forward. (Varied input:
    // from a constant one the batch norm's output is β everywhere, up to rounding, and the
    // ReLU after it passes no gradient.)
    var rng = SeededGenerator(seed: 2)
    let output = try model(Tensor.randomUniform(shape: [2, 8, 8, 3], bound: 1, rng: &rng))
    XCTAssertNil(model.backward(Tensor(shape: output.shape, repeating: 1), needsInputGradient: false))
    XCTAssertNotEqual(model.trainableParameters.first?.gradient.scalars.allSatisfy { $0 == 0 }, true)
  }
}

extension GradientRecordingTests {
  /// In a training step that needs no input gradient, the frozen layers before the first
  /// trainable one keep nothing, and the step computes the same gradients as before.
  func testFrozenLeadingLayers_keepNothingInATrainingStep() throws {
    // With the trainable batch norm in evaluation mode the frozen convolution must still not
    // fold it: its γ and β need their gradients.
    try withEvery("batch norm in training mode", in: [true, false]) { normTraining in
      try assertFrozenPrefixKeepsNothing(normTraining: normTraining)
    }
  }

  private func assertFrozenPrefixKeepsNothing(normTraining: Bool) throws {
    let recorded = network(), lean = network()
    for model in [recorded, lean] {
      model.layers[0].setTrainable(false)
      model.layers[1].isTraining = normTraining
    }
    let input = Tensor(shape: [2, 8, 8, 3], repeating: 0.25)
    let dY = Tensor(shape: [2, 2], repeating: 1)
    _ = try recorded(input)
    _ = recorded.backward(dY, needsInputGradient: false)
    weak var storage: TensorStorage?
    try {
      let copy = Tensor(shape: [2, 8, 8, 3], repeating: 0.25)
      storage = copy.storage
      _ = try GradientRecording.withoutInputGradients { try lean(copy) }
    }()
    XCTAssertNil(storage, "the frozen convolution kept no input")
    _ = lean.backward(dY, needsInputGradient: false)
    XCTAssertEqual(lean.trainableParameters.map(\.gradient.scalars), recorded.trainableParameters.map(\.gradient.scalars))
  }
}
