import Engine
import EngineTestSupport
import XCTest

/// A 3×3 convolution keeps its Winograd-transformed filters between forward passes that do
/// not train it, and transforms again after any change to its weight: a kept transform never
/// gives an answer the current weight would not.
final class WinogradTransformedWeightTests: XCTestCase {
  private var rng = SeededGenerator(seed: 31)

  /// A 3×3 convolution with 16 channels each side (Winograd computes it), a random bias.
  private func convolution() -> Conv2D {
    let conv = Conv2D(inChannels: 16, outChannels: 16, kernel: 3, padding: .symmetric(1), rng: &rng)
    try! conv.bias!.assign(.randomUniform(shape: [16], bound: 1, rng: &rng))
    return conv
  }

  private lazy var input = Tensor.randomUniform(shape: [2, 9, 7, 16], bound: 2, rng: &rng)

  /// The output of a new convolution holding `conv`'s weight and bias now.
  private func freshOutput(like conv: Conv2D) throws -> Tensor {
    let fresh = convolution()
    try fresh.weight.assign(conv.weight.value)
    try fresh.bias!.assign(conv.bias!.value)
    return try GradientRecording.withoutGradients { try fresh(input) }
  }

  private func inferenceOutput(_ conv: Conv2D) throws -> Tensor {
    try GradientRecording.withoutGradients { try conv(input) }
  }

  func testInInference_theKeptTransformGivesWhatTransformingEveryTimeGives() throws {
    let conv = convolution()
    let training = try conv(input)  // transforms into scratch memory, keeps nothing
    XCTAssertEqual(try inferenceOutput(conv), training)
    XCTAssertEqual(try inferenceOutput(conv), training, "the second pass, from the kept transform")
  }

  func testAfterANewWeightIsAssigned_theNextForwardUsesIt() throws {
    let conv = convolution()
    let before = try inferenceOutput(conv)
    try conv.weight.assign(.randomUniform(shape: [3, 3, 16, 16], bound: 0.3, rng: &rng))
    let after = try inferenceOutput(conv)
    XCTAssertNotEqual(after, before)
    XCTAssertEqual(after, try freshOutput(like: conv))
  }

  func testAfterOneValueIsWrittenInPlace_theNextForwardUsesIt() throws {
    let conv = convolution()
    _ = try inferenceOutput(conv)
    let address = conv.weight.value.withUnsafeBufferPointer { $0.baseAddress }
    conv.weight.value.withUnsafeMutableBufferPointer { $0[5 * 16 + 3] += 0.5 }
    XCTAssertEqual(conv.weight.value.withUnsafeBufferPointer { $0.baseAddress }, address, "written in place, not copied")
    XCTAssertEqual(try inferenceOutput(conv), try freshOutput(like: conv))
  }

  /// Validation between training steps: the transform kept by an evaluation pass must not
  /// outlive the optimizer's step.
  func testAfterAnOptimizerStep_theNextEvaluationUsesTheUpdatedWeight() throws {
    let conv = convolution()
    let optimizer = SGD(conv.parameters, learningRate: 0.1)
    let before = try inferenceOutput(conv)
    let output = try conv(input)
    _ = conv.backward(output, needsInputGradient: false)
    optimizer.step()
    let after = try inferenceOutput(conv)
    XCTAssertNotEqual(after, before)
    XCTAssertEqual(after, try freshOutput(like: conv))
  }

  /// A frozen layer keeps its transform even in a forward that records gradients (a fine-tune's
  /// trunk), and still follows a new weight loaded into it.
  func testAFrozenWeightKeepsItsTransformAndStillFollowsANewValue() throws {
    let conv = convolution()
    conv.weight.isTrainable = false
    conv.bias!.isTrainable = false
    XCTAssertEqual(try conv(input), try freshOutput(like: conv))
    try conv.weight.assign(.randomUniform(shape: [3, 3, 16, 16], bound: 0.3, rng: &rng))
    XCTAssertEqual(try conv(input), try freshOutput(like: conv))
  }
}
