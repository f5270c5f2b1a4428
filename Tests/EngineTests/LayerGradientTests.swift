import Engine
import EngineTestSupport
import XCTest

/// Finite-difference checks of the layers without weights of their own, and of the
/// containers that compose layers.
final class LayerGradientTests: XCTestCase {
  func testActivations_gradientsMatchFiniteDifferences() throws {
    let input = kinkFreeInput(shape: [2, 3, 3, 4], seed: 6, spread: 16)
    try checkGradients(of: Activation(.relu), input: input)
    try checkGradients(of: Activation(.relu6), input: input)
  }

  func testActivations_clampAsPyTorch() throws {
    let input = Tensor(shape: [5], values: [-1, 0, 3, 6, 7])
    XCTAssertEqual(try Activation(.relu)(input).scalars, [0, 0, 3, 6, 7])
    XCTAssertEqual(try Activation(.relu6)(input).scalars, [0, 0, 3, 6, 6])
  }

  func testDropout_gradientMatchesFiniteDifferencesWithTheSameMask() throws {
    var rng = SeededGenerator(seed: 3)
    let input = Tensor.randomUniform(shape: [4, 10], bound: 1, rng: &rng)
    try checkGradients(of: Dropout(0.5, seed: 77), input: input) { try Dropout(0.5, seed: 77)($0) }
  }

  func testDropout_dropsAboutPAndScalesTheRest_identityInEvaluation() throws {
    let dropout = Dropout(0.25, seed: 1)
    let input = Tensor(shape: [10_000], repeating: 1)
    let output = try dropout(input).scalars
    let kept = output.filter { $0 != 0 }
    XCTAssertEqual(Double(kept.count) / 10_000, 0.75, accuracy: 0.02)
    XCTAssertTrue(kept.allSatisfy { abs($0 - 4.0 / 3.0) < 1e-6 })
    dropout.setTraining(false)
    XCTAssertEqual(try dropout(input), input)
  }

  func testFlatten_gradientMatchesFiniteDifferences() throws {
    var rng = SeededGenerator(seed: 4)
    try checkGradients(of: Flatten(), input: .randomUniform(shape: [2, 2, 3, 2], bound: 1, rng: &rng))
  }

  /// A ResNet-style block: conv-bn-relu-conv-bn body, strided 1×1 conv + bn shortcut,
  /// ReLU after the sum. The inputs are scaled so no pre-activation sits within h of 0.
  func testResidualBlock_gradientsMatchFiniteDifferences() throws {
    var rng = SeededGenerator(seed: 21)
    let block = Residual(
      body: Sequential([
        Conv2D(inChannels: 3, outChannels: 4, kernel: 3, stride: 2, padding: .symmetric(1), bias: false, rng: &rng),
        BatchNorm(channels: 4), Activation(.relu6),
        Conv2D(inChannels: 4, outChannels: 4, kernel: 3, padding: .symmetric(1), bias: false, rng: &rng),
        BatchNorm(channels: 4),
      ]),
      shortcut: Sequential([Conv2D(inChannels: 3, outChannels: 4, kernel: 1, stride: 2, bias: false, rng: &rng),
                            BatchNorm(channels: 4)]),
      activation: Activation(.relu))
    try checkGradients(of: block, input: .randomUniform(shape: [2, 6, 6, 3], bound: 1, rng: &rng), step: 1e-3, tolerance: 2e-2)
  }

  /// Residual blocks one after another in a sequence: each block sums its body's and its
  /// shortcut's input gradients and passes them through the ReLU of the block before in one
  /// pass. The gradients equal those of the blocks run back one by one, bit for bit, and
  /// finite differences.
  func testResidualBlocksInSequence_foldTheActivationBefore_sameGradients() throws {
    var rng = SeededGenerator(seed: 23)
    func block(shortcut: Bool) -> Residual {
      Residual(
        body: Sequential([Conv2D(inChannels: 4, outChannels: 4, kernel: 3, padding: .symmetric(1), bias: false, rng: &rng),
                          BatchNorm(channels: 4)]),
        shortcut: shortcut ? Conv2D(inChannels: 4, outChannels: 4, kernel: 1, bias: false, rng: &rng) : nil,
        activation: Activation(.relu))
    }
    let blocks = [block(shortcut: false), block(shortcut: true), block(shortcut: false)]
    let model = Sequential(blocks)
    let input = Tensor.randomUniform(shape: [2, 5, 5, 4], bound: 1, rng: &rng)
    let dY = Tensor.randomUniform(shape: [2, 5, 5, 4], bound: 1, rng: &rng)

    _ = try model(input)
    let dX = try XCTUnwrap(model.backward(dY, needsInputGradient: true))
    let folded = model.namedParameters().filter { $0.1.needsGradient }.map(\.1.gradient.scalars)
    model.zeroGradients()
    var x = input
    for block in blocks { x = try block(x) }
    var gradient = dY
    for block in blocks.reversed() { gradient = try XCTUnwrap(block.backward(gradient, needsInputGradient: true)) }
    XCTAssertEqual(dX.scalars, gradient.scalars)
    XCTAssertEqual(folded, model.namedParameters().filter { $0.1.needsGradient }.map(\.1.gradient.scalars))

    model.zeroGradients()
    try checkGradients(of: model, input: input, step: 1e-3, tolerance: 2e-2)
  }

  func testIdentityResidual_addsInputToBody() throws {
    var rng = SeededGenerator(seed: 1)
    let body = Conv2D(inChannels: 2, outChannels: 2, kernel: 3, padding: .same, groups: 2, rng: &rng)
    let block = Residual(body: body)
    let input = Tensor.randomUniform(shape: [1, 4, 4, 2], bound: 1, rng: &rng)
    let sum = zip(try body(input).scalars, input.scalars).map { $0 + $1 }
    assertClose(try block(input).scalars, sum)
    try checkGradients(of: block, input: input)
  }

  func testSequential_namesParametersLikePyTorch_andSkipsFrozenStem() throws {
    var rng = SeededGenerator(seed: 1)
    let stem = Conv2D(inChannels: 3, outChannels: 2, kernel: 3, rng: &rng)
    let model = Sequential(named: [
      ("features", Sequential([stem, BatchNorm(channels: 2), Activation(.relu)])),
      ("pool", GlobalAvgPool()), ("fc", Linear(inFeatures: 2, outFeatures: 3, rng: &rng)),
    ])
    XCTAssertEqual(model.namedParameters().map(\.name), [
      "features.0.weight", "features.0.bias", "features.1.weight", "features.1.bias",
      "features.1.running_mean", "features.1.running_var", "fc.weight", "fc.bias",
    ])
    XCTAssertEqual(model.parameterCount, 3 * 3 * 3 * 2 + 2 + 2 + 2 + 2 * 3 + 3)
    model["features"]!.setTrainable(false)
    _ = try model(Tensor.randomUniform(shape: [2, 5, 5, 3], bound: 1, rng: &rng))
    XCTAssertNil(model.backward(Tensor(shape: [2, 3], repeating: 1), needsInputGradient: false))
    XCTAssertTrue(stem.weight.gradient.scalars.allSatisfy { $0 == 0 }, "frozen stem gets no gradient")
    XCTAssertTrue(model.trainableParameters.count == 2, "only fc.weight and fc.bias train")
  }
}
