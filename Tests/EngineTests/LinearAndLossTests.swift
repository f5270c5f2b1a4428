import Engine
import EngineTestSupport
import XCTest

final class LinearAndLossTests: XCTestCase {
  func testLinear_matchesPyTorch() throws {
    let fixture = try Fixtures.load("linear")
    var rng = SeededGenerator(seed: 0)
    let linear = Linear(inFeatures: 5, outFeatures: 4, rng: &rng)
    try linear.weight.assign(try fixture.tensor("weight"))
    try linear.bias!.assign(try fixture.tensor("bias"))
    try assertMatchesFixture(linear, fixture, gradients: [(linear.weight, "dW"), (linear.bias!, "dBias")], "linear")
  }

  func testLinear_gradientsMatchFiniteDifferences() throws {
    var rng = SeededGenerator(seed: 9)
    let linear = Linear(inFeatures: 7, outFeatures: 3, rng: &rng)
    try checkGradients(of: linear, input: .randomUniform(shape: [4, 7], bound: 1, rng: &rng))
  }

  func testLinear_accumulatesGradientsUntilZeroed() throws {
    var rng = SeededGenerator(seed: 9)
    let linear = Linear(inFeatures: 2, outFeatures: 2, rng: &rng)
    let input = Tensor(shape: [1, 2], values: [1, 2]), dY = Tensor(shape: [1, 2], values: [1, 1])
    _ = try linear(input)
    _ = linear.backward(dY, needsInputGradient: false)
    _ = linear.backward(dY, needsInputGradient: false)
    XCTAssertEqual(linear.weight.gradient.scalars, [2, 4, 2, 4])
    linear.zeroGradients()
    XCTAssertEqual(linear.weight.gradient.scalars, [0, 0, 0, 0])
  }

  /// A zero-initialised classifier predicts every class equally, and its first gradient
  /// is each class's mean input direction: `dW[k] = (1/N) Σᵢ (1/K − [yᵢ = k]) xᵢ`, so one
  /// SGD step points every row at its own class's inputs (BiT's new head).
  func testZeroInitialisedLinear_startsUniform_andFirstGradientIsTheClassMeans() throws {
    var rng = SeededGenerator(seed: 4)
    let linear = Linear(inFeatures: 3, outFeatures: 2, initialization: .zero, rng: &rng)
    let input = Tensor(shape: [3, 3], values: [1, 0, 2, 3, 1, 0, 0, 4, 1]), labels = [0, 1, 1]
    let logits = try linear(input)
    XCTAssertEqual(logits.scalars, [Float](repeating: 0, count: 6))
    var dLogits = Tensor(shape: logits.shape)
    let loss = logits.withUnsafeBufferPointer { x in
      dLogits.withUnsafeMutableBufferPointer { softmaxCrossEntropy(logits: x.baseAddress!, labels: labels, classes: 2, dLogits: $0.baseAddress!) }
    }
    XCTAssertEqual(loss, log(2), accuracy: 1e-6)
    _ = linear.backward(dLogits, needsInputGradient: false)
    // Class 0: (½ − 1)·x₀ + ½·x₁ + ½·x₂, over 3 images; class 1 is its negative.
    let row0: [Float] = [(-0.5 * 1 + 0.5 * 3 + 0.5 * 0) / 3, (0 + 0.5 * 1 + 0.5 * 4) / 3, (-0.5 * 2 + 0 + 0.5 * 1) / 3]
    assertClose(linear.weight.gradient.scalars, row0 + row0.map { -$0 }, relative: 0, absolute: 1e-6, "dW")
    assertClose(linear.bias!.gradient.scalars, [1.0 / 6, -1.0 / 6], relative: 0, absolute: 1e-6, "dBias")
  }

  /// The default initialiser is PyTorch's uniform draw, value for value.
  func testLinearDefaultInitialisation_isTheUniformDraw() {
    var first = SeededGenerator(seed: 11), second = SeededGenerator(seed: 11)
    let implicit = Linear(inFeatures: 6, outFeatures: 3, rng: &first)
    let explicit = Linear(inFeatures: 6, outFeatures: 3, initialization: .uniform, rng: &second)
    XCTAssertEqual(implicit.weight.value.scalars, explicit.weight.value.scalars)
    XCTAssertEqual(implicit.bias!.value.scalars, explicit.bias!.value.scalars)
    let bound = 1 / Float(6).squareRoot()
    XCTAssertTrue(implicit.weight.value.scalars.allSatisfy { abs($0) <= bound } && implicit.weight.value.scalars.contains { $0 != 0 })
  }

  func testSoftmaxCrossEntropy_withLabelSmoothing_matchesPyTorch() throws {
    let fixture = try Fixtures.load("loss").object("crossEntropy")
    let logits = try fixture.tensor("logits")
    let labels = try XCTUnwrap(fixture["labels"] as? [Int])
    var gradient = Tensor(shape: logits.shape)
    let loss = logits.withUnsafeBufferPointer { x in
      gradient.withUnsafeMutableBufferPointer { d in
        softmaxCrossEntropy(logits: x.baseAddress!, labels: labels, classes: logits.shape[1],
                            labelSmoothing: Float(try! fixture.number("labelSmoothing")), dLogits: d.baseAddress!)
      }
    }
    XCTAssertEqual(Double(loss), try fixture.number("loss"), accuracy: 1e-5)
    assertClose(gradient, try fixture.tensor("dLogits"), relative: 1e-4, absolute: 1e-6, "dLogits")
  }

  func testWeightedCrossEntropy_withLabelSmoothing_matchesPyTorch() throws {
    let fixture = try Fixtures.load("loss").object("weightedCrossEntropy")
    let logits = try fixture.tensor("logits")
    let labels = try XCTUnwrap(fixture["labels"] as? [Int])
    let weights = try XCTUnwrap(fixture["classWeights"] as? [Double]).map(Float.init)
    var gradient = Tensor(shape: logits.shape)
    let loss = logits.withUnsafeBufferPointer { x in
      gradient.withUnsafeMutableBufferPointer { d in
        softmaxCrossEntropy(logits: x.baseAddress!, labels: labels, classes: logits.shape[1],
                            labelSmoothing: Float(try! fixture.number("labelSmoothing")), classWeights: weights, dLogits: d.baseAddress!)
      }
    }
    XCTAssertEqual(Double(loss), try fixture.number("loss"), accuracy: 1e-5)
    assertClose(gradient, try fixture.tensor("dLogits"), relative: 1e-4, absolute: 1e-6, "dLogits")
  }

  func testBinaryCrossEntropyWithLogits_matchesPyTorch() throws {
    let fixture = try Fixtures.load("loss").object("binaryCrossEntropy")
    let logits = try fixture.tensor("logits"), targets = try fixture.tensor("targets")
    var gradient = Tensor(shape: logits.shape)
    let loss = logits.withUnsafeBufferPointer { x in
      targets.withUnsafeBufferPointer { t in
        gradient.withUnsafeMutableBufferPointer { d in
          binaryCrossEntropyWithLogits(logits: x.baseAddress!, targets: t.baseAddress!, count: logits.count,
                                       dLogits: d.baseAddress!)
        }
      }
    }
    XCTAssertEqual(Double(loss), try fixture.number("loss"), accuracy: 1e-5)
    assertClose(gradient, try fixture.tensor("dLogits"), relative: 1e-4, absolute: 1e-6, "dLogits")
  }

  /// The fused gradients equal finite differences of the losses themselves.
  func testLossGradients_matchFiniteDifferences() throws {
    var rng = SeededGenerator(seed: 12)
    let logits = Tensor.randomUniform(shape: [3, 4], bound: 3, rng: &rng)
    let labels = [2, 0, 3]
    let targets = Tensor(shape: [3, 4], values: (0..<12).map { Float($0 % 3) / 2 })
    let crossEntropy = { (x: UnsafeBufferPointer<Float>, d: UnsafeMutablePointer<Float>?) in
      softmaxCrossEntropy(logits: x.baseAddress!, labels: labels, classes: 4, labelSmoothing: 0.2, dLogits: d)
    }
    let weighted = { (x: UnsafeBufferPointer<Float>, d: UnsafeMutablePointer<Float>?) in
      softmaxCrossEntropy(logits: x.baseAddress!, labels: labels, classes: 4, labelSmoothing: 0.1, classWeights: [0.5, 2, 1, 3], dLogits: d)
    }
    let binary = { (x: UnsafeBufferPointer<Float>, d: UnsafeMutablePointer<Float>?) in
      targets.withUnsafeBufferPointer {
        binaryCrossEntropyWithLogits(logits: x.baseAddress!, targets: $0.baseAddress!, count: 12, dLogits: d)
      }
    }
    for loss in [crossEntropy, weighted, binary] {
      var analytic = Tensor(shape: [3, 4])
      _ = logits.withUnsafeBufferPointer { x in analytic.withUnsafeMutableBufferPointer { loss(x, $0.baseAddress!) } }
      var numeric = [Float]()
      for i in 0..<12 {
        var plus = logits, minus = logits
        plus.withUnsafeMutableBufferPointer { $0[i] += 1e-2 }
        minus.withUnsafeMutableBufferPointer { $0[i] -= 1e-2 }
        let difference = Double(plus.withUnsafeBufferPointer { loss($0, nil) })
          - Double(minus.withUnsafeBufferPointer { loss($0, nil) })
        numeric.append(Float(difference / 2e-2))
      }
      assertClose(analytic.scalars, numeric, relative: 1e-2, absolute: 1e-4, "loss gradient")
    }
  }
}
