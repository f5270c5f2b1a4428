import Engine
import EngineTestSupport
import XCTest

/// A convolution with no batch norm and the activation after it (VGG's layers) run as one
/// pass, the clamp in the convolution's epilogue: values, gradients and weight gradients are
/// exactly those of the two layers run one after the other, whichever kernel computes the
/// convolution.
final class ConvolutionActivationPairTests: XCTestCase {
  /// 3×3 (3 input channels: the narrow convolution) → ReLU → 3×3 with 16 channels each side
  /// (Winograd) → ReLU6 → 3×3 stride 2 (im2col) → ReLU → 1×1 (the pointwise product) → ReLU,
  /// every convolution with a bias.
  private func network() -> [any Layer] {
    var rng = SeededGenerator(seed: 21)
    let layers: [Conv2D] = [
      Conv2D(inChannels: 3, outChannels: 16, kernel: 3, padding: .symmetric(1), rng: &rng),
      Conv2D(inChannels: 16, outChannels: 16, kernel: 3, padding: .symmetric(1), rng: &rng),
      Conv2D(inChannels: 16, outChannels: 16, kernel: 3, stride: 2, padding: .symmetric(1), rng: &rng),
      Conv2D(inChannels: 16, outChannels: 8, kernel: 1, padding: .symmetric(0), rng: &rng),
    ]
    for layer in layers {
      try! layer.bias!.assign(.randomUniform(shape: [layer.outChannels], bound: 1, rng: &rng))
    }
    let activations: [ClampActivation] = [.relu, .relu6, .relu, .relu]
    return zip(layers, activations).flatMap { [$0, Activation($1)] as [any Layer] }
  }

  private func input() -> Tensor {
    var rng = SeededGenerator(seed: 4)
    return Tensor.randomUniform(shape: [2, 9, 10, 3], bound: 6, rng: &rng)
  }

  func testInTraining_forwardAndBackwardEqualTheLayersRunOneByOne() throws {
    var rng = SeededGenerator(seed: 6)
    let dY = Tensor.randomUniform(shape: [2, 5, 5, 8], bound: 1, rng: &rng)
    let output = try assertFusedPassesEqualTheLayers(network, input: input(), dY: dY)
    XCTAssertGreaterThan(output.scalars.filter { $0 == 0 }.count, 0, "some values clamped at 0")
    XCTAssertGreaterThan(output.scalars.filter { $0 > 0 }.count, 0)
  }

  /// Recording nothing (inference, a frozen trunk), the pair's output is the layers' output,
  /// ReLU6 reaching its ceiling in the middle.
  func testInInference_outputEqualsTheLayersRunOneByOne() throws {
    let layers = network()
    let fused = try GradientRecording.withoutGradients { try Sequential(layers)(input()) }
    var x = input(), middle = Tensor(shape: [0])
    for (index, layer) in layers.enumerated() {
      x = try layer.forward(x)
      if index == 3 { middle = x }
    }
    XCTAssertEqual(fused, x)
    XCTAssertGreaterThan(middle.scalars.filter { $0 == 6 }.count, 0, "ReLU6 clamps some values at 6")
  }
}
