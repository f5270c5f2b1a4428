import Engine
import EngineTestSupport
import XCTest

/// A batch norm and the activation after it run as one in training, forward and backward;
/// the values are exactly those of the two layers run one after the other, but for the
/// order in which a 1×1 convolution before a batch norm sums its statistics
/// (``ConvolutionNormalizationRun``).
final class NormalizationActivationPairTests: XCTestCase {
  /// Conv → BN → ReLU6 → 1×1 conv → BN → ReLU; with `frozenFirstNorm`, the first batch
  /// norm normalises with running statistics it does not update (a frozen trunk's).
  private func network(frozenFirstNorm: Bool = false) -> [any Layer] {
    var rng = SeededGenerator(seed: 11)
    let first = BatchNorm(channels: 12), second = BatchNorm(channels: 5)
    try! first.weight.assign(.randomUniform(shape: [12], bound: 2, rng: &rng))
    try! second.bias.assign(.randomUniform(shape: [5], bound: 1, rng: &rng))
    if frozenFirstNorm {
      first.isTraining = false
      try! first.runningMean.assign(.randomUniform(shape: [12], bound: 0.5, rng: &rng))
    }
    return [Conv2D(inChannels: 3, outChannels: 12, kernel: 3, padding: .symmetric(1), rng: &rng), first, Activation(.relu6),
            Conv2D(inChannels: 12, outChannels: 5, kernel: 1, padding: .symmetric(0), rng: &rng), second, Activation(.relu)]
  }

  func testFusedPassesEqualTheLayersRunOneByOne() throws {
    try checkFusedPassesEqualTheLayersRunOneByOne(frozenFirstNorm: false)
  }

  /// Backward, the fused pair recomputes its mask from the statistics the forward used:
  /// running ones for a batch norm in evaluation mode.
  func testWithAnEvaluationModeBatchNorm_theFusedPassesStillEqualTheLayers() throws {
    try checkFusedPassesEqualTheLayersRunOneByOne(frozenFirstNorm: true)
  }

  private func checkFusedPassesEqualTheLayersRunOneByOne(frozenFirstNorm: Bool) throws {
    var rng = SeededGenerator(seed: 5)
    let input = Tensor.randomUniform(shape: [2, 6, 5, 3], bound: 3, rng: &rng)
    let dY = Tensor.randomUniform(shape: [2, 6, 5, 5], bound: 1, rng: &rng)
    // The 1×1 convolution sums the second batch norm's statistics chunk by chunk, in another
    // order than the batch norm alone: values agree to the summation tolerance (the pair on
    // its own is exact: ChannelKernelsTests).
    let output = try assertFusedPassesEqualTheLayers(
      { network(frozenFirstNorm: frozenFirstNorm) }, input: input, dY: dY, tolerance: Tolerance.summation)
    XCTAssertGreaterThan(output.scalars.filter { $0 == 0 }.count, 0, "some values clamped at 0")
    XCTAssertGreaterThan(output.scalars.filter { $0 > 0 }.count, 0)
  }

  /// The pair's gradients against finite differences, ReLU6 reaching its ceiling.
  func testGradientsMatchFiniteDifferences() throws {
    var rng = SeededGenerator(seed: 8)
    let norm = BatchNorm(channels: 4)
    try norm.weight.assign(Tensor(shape: [4], values: [4, 3, 0.5, 1]))
    try checkGradients(of: Sequential([norm, Activation(.relu6)]), input: Tensor.randomUniform(shape: [2, 3, 3, 4], bound: 2, rng: &rng))
  }
}

/// Runs the layers `makeLayers` builds as one `Sequential` (whose batch norm + activation pairs
/// run fused) and, built again, one by one, forward on `input` and backward from `dY`, and
/// asserts that outputs, input gradients, parameters (running statistics included) and
/// weight gradients are equal value for value, or, with `tolerance`, within that many of
/// each tensor's scale (its largest magnitude, or 1 if smaller). Returns the output.
@discardableResult
func assertFusedPassesEqualTheLayers(
  _ makeLayers: () -> [any Layer], input: Tensor, dY: Tensor, tolerance: Double? = nil,
  file: StaticString = #filePath, line: UInt = #line
) throws -> Tensor {
  let fused = Sequential(makeLayers())
  let output = try fused(input)
  let dX = try XCTUnwrap(fused.backward(dY, needsInputGradient: true), file: file, line: line)

  let layers = makeLayers()
  var x = input
  for layer in layers { x = try layer.forward(x) }
  var gradient = dY
  for layer in layers.reversed() { gradient = try XCTUnwrap(layer.backward(gradient, needsInputGradient: true), file: file, line: line) }

  func assertSame(_ actual: Tensor, _ expected: Tensor, _ message: String) {
    if let tolerance {
      // A gradient that is zero but for rounding (a convolution's bias before a batch norm)
      // has no scale of its own: 1 stands in for it.
      let scale = expected.scalars.reduce(1) { max($0, abs(Double($1))) }
      assertClose(actual.scalars, expected.scalars, relative: 0, absolute: tolerance * scale, message, file: file, line: line)
    } else {
      XCTAssertEqual(actual, expected, message, file: file, line: line)
    }
  }
  assertSame(output, x, "forward")
  assertSame(dX, gradient, "input gradient")
  for ((name, a), (_, b)) in zip(fused.namedParameters(), Sequential(layers).namedParameters()) {
    assertSame(a.value, b.value, "\(name) (running statistics included)")
    if a.kind == .weight { assertSame(a.gradient, b.gradient, "\(name) gradient") }
  }
  return output
}
