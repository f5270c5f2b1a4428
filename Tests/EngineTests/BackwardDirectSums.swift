@testable import Engine
import EngineTestSupport
import XCTest

/// Runs a convolution's backward kernel (dense or depthwise) on seeded random input, weight
/// and output gradient, and asserts its input and weight gradients equal the direct sums in
/// Double within Winograd's tolerance. `weightBound` is the weights' range `[−b, b]`.
func assertBackwardMatchesDirectSums(
  _ g: ConvGeometry, depthwise: Bool = false, seed: UInt64, weightBound: Float = 1,
  file: StaticString = #filePath, line: UInt = #line
) {
  var rng = SeededGenerator(seed: seed)
  let input = Tensor.randomUniform(shape: g.inputShape, bound: 1, rng: &rng)
  let weightShape = depthwise
    ? [g.kernelHeight, g.kernelWidth, g.inChannels] : [g.kernelHeight, g.kernelWidth, g.inChannels, g.outChannels]
  let weight = Tensor.randomUniform(shape: weightShape, bound: weightBound, rng: &rng)
  let dY = Tensor.randomUniform(shape: g.outputShape, bound: 1, rng: &rng)
  var dX = Tensor(shape: g.inputShape), dW = Tensor(shape: weightShape)
  let kernel = depthwise ? depthwiseConv2dBackward : conv2dBackward
  kernel(input.pointer, weight.pointer, dY.pointer, dX.mutablePointer(), dW.mutablePointer(), nil, g)
  let expectedDX = (0..<dX.count).map { Float(directConvolutionInputGradient(index: $0, dY: dY, weight: weight, geometry: g, depthwise: depthwise)) }
  let expectedDW = (0..<dW.count).map { Float(directConvolutionWeightGradient(index: $0, input: input, dY: dY, geometry: g, depthwise: depthwise)) }
  assertClose(dX.scalars, expectedDX, scaled: Tolerance.winograd, "dX", file: file, line: line)
  assertClose(dW.scalars, expectedDW, scaled: Tolerance.winograd, "dW", file: file, line: line)
}
