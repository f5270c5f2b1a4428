@testable import Engine
import EngineTestSupport
import XCTest

/// The row kernels (depthwise convolution, batch norm, a first layer's narrow convolution) of
/// every variant the CPU runs against the same references, at channel counts that use each
/// code path: whole blocks of 64 channels, 16-channel vectors, and a partial vector or scalar
/// tail; at widths that take the depthwise forward's groups of pixels and its edges; with
/// outputs stored plainly and, where the rows allow it, non-temporally.
final class ChannelKernelsTests: XCTestCase {
  /// Runs `body` for every kernel variant, once with outputs stored plainly and once streamed.
  private func withEveryKernelPath(_ body: () throws -> Void) rethrows {
    let threshold = ChannelKernels.streamingThreshold
    defer { ChannelKernels.streamingThreshold = threshold }
    try withEveryMatrixKernel { _ in
      try withEvery("streamed", in: [false, true]) { streamed in
        ChannelKernels.streamingThreshold = streamed ? 0 : .max
        try body()
      }
    }
  }

  private let geometries = [
    ConvGeometry(input: (2, 5, 6, 32), outChannels: 32, kernel: (3, 3), stride: 1, padding: .symmetric(1)),
    ConvGeometry(input: (2, 9, 8, 83), outChannels: 83, kernel: (3, 3), stride: 2, padding: .same),
    ConvGeometry(input: (2, 7, 6, 70), outChannels: 70, kernel: (5, 5), stride: 1, padding: .symmetric(2)),
    ConvGeometry(input: (1, 6, 5, 24), outChannels: 24, kernel: (3, 3), stride: 1, padding: .explicit(top: 2, bottom: 0, left: 0, right: 1)),
    // Whole 16-channel blocks and rows wide enough for groups of 4 and 8 pixels whose windows
    // lie inside the row, beside edge pixels and a remainder: 3×3 and 5×5, strides 1 and 2.
    ConvGeometry(input: (2, 5, 21, 48), outChannels: 48, kernel: (3, 3), stride: 1, padding: .symmetric(1)),
    ConvGeometry(input: (1, 7, 37, 32), outChannels: 32, kernel: (3, 3), stride: 2, padding: .same),
    ConvGeometry(input: (1, 6, 23, 16), outChannels: 16, kernel: (5, 5), stride: 1, padding: .symmetric(2)),
    ConvGeometry(input: (1, 9, 41, 32), outChannels: 32, kernel: (5, 5), stride: 2, padding: .same),
  ]

  func testDepthwiseForward_matchesDirectSums() {
    withEveryKernelPath {
      withEvery("geometry", in: geometries.indices) { index in
        let g = geometries[index]
        var rng = SeededGenerator(seed: 41)
        let input = Tensor.randomUniform(shape: g.inputShape, bound: 1, rng: &rng)
        let weight = Tensor.randomUniform(shape: [g.kernelHeight, g.kernelWidth, g.inChannels], bound: 1, rng: &rng)
        var output = Tensor(shape: g.outputShape)
        depthwiseConv2dForward(input: input.pointer, weight: weight.pointer, output: output.mutablePointer(), geometry: g,
                               epilogue: ChannelEpilogue())
        let expected = (0..<output.count).map {
          Float(directConvolutionOutput(index: $0, input: input, weight: weight, geometry: g, depthwise: true))
        }
        assertClose(output.scalars, expected, scaled: Tolerance.summation, "y")
      }
    }
  }

  /// A folded batch norm and ReLU6 (or ReLU, or a bias alone) applied in the kernel's registers
  /// equal the same map applied to the plain sums.
  func testDepthwiseForward_withEpilogue_matchesDirectSumsThroughIt() {
    withEveryKernelPath {
      withEvery("geometry", in: geometries.indices) { index in
        assertForwardThroughEpilogue(geometries[index], depthwise: true) { g, input, weight, output, epilogue in
          depthwiseConv2dForward(input: input.pointer, weight: weight.pointer, output: output, geometry: g, epilogue: epilogue)
        }
      }
    }
  }

  /// A network's first layer, read in place by the narrow-convolution kernel: 1 to 4 input
  /// channels, windows of 2 to 50 values; output channels in whole 64-, 32- and 16-channel
  /// blocks and a scalar tail; rows wide enough for whole groups of pixels beside the edge
  /// pixels (and, at widths 25, a group that would end on a pixel whose window reaches past the
  /// right edge); MobileNetV2's 3×3 stride 2, ResNet's 7×7 stride 2 (where the AVX-512
  /// kernels run: its 147-value windows go to im2col with the portable ones) and other strides,
  /// kernels and paddings.
  func testNarrowConvolution_withEpilogue_matchesDirectSumsThroughIt() {
    let narrow = [
      ConvGeometry(input: (2, 23, 25, 3), outChannels: 117, kernel: (3, 3), stride: 2, padding: .symmetric(1)),
      ConvGeometry(input: (1, 21, 26, 3), outChannels: 64, kernel: (7, 7), stride: 2, padding: .symmetric(3)),
      ConvGeometry(input: (1, 19, 30, 1), outChannels: 69, kernel: (7, 7), stride: 2, padding: .symmetric(3)),
      ConvGeometry(input: (2, 9, 25, 1), outChannels: 32, kernel: (3, 3), stride: 1, padding: .same),
      ConvGeometry(input: (1, 8, 21, 2), outChannels: 21, kernel: (5, 5), stride: 1, padding: .explicit(top: 0, bottom: 2, left: 3, right: 0)),
      ConvGeometry(input: (1, 6, 9, 4), outChannels: 16, kernel: (1, 1), stride: 2, padding: .symmetric(0)),
    ]
    withEveryKernelPath {
      withEvery("geometry", in: narrow.indices) { index in
        if MatrixKernels.active == .avx512 || narrow[index].patchSize < MatrixKernels.minimumInnerDimension {
          XCTAssertTrue(narrow[index].suitsNarrowConvolution, "the narrow kernel reads it")
        }
        assertForwardThroughEpilogue(narrow[index], depthwise: false) { g, input, weight, output, epilogue in
          conv2dForward(input: input.pointer, weight: weight.pointer, output: output, geometry: g, epilogue: epilogue)
        }
      }
    }
  }

  /// Runs `forward` with a folded batch norm and ReLU6, ReLU, or a bias alone as its epilogue
  /// against direct sums through the same map. The input holds a NaN, which the clamps must
  /// keep (as PyTorch's do) in every output whose window reads it.
  private func assertForwardThroughEpilogue(
    _ g: ConvGeometry, depthwise: Bool,
    _ forward: (ConvGeometry, _ input: Tensor, _ weight: Tensor, _ output: UnsafeMutablePointer<Float>, ChannelEpilogue) -> Void,
    file: StaticString = #filePath, line: UInt = #line
  ) {
    withEvery("epilogue", in: [ClampActivation.relu6, .relu, nil]) { clamp in
      let c = g.outChannels
      var rng = SeededGenerator(seed: 43)
      var input = Tensor.randomUniform(shape: g.inputShape, bound: 1, rng: &rng)
      let weightShape = depthwise ? [g.kernelHeight, g.kernelWidth, c] : [g.kernelHeight, g.kernelWidth, g.inChannels, c]
      let weight = Tensor.randomUniform(shape: weightShape, bound: 1, rng: &rng)
      let scale = Tensor.randomUniform(shape: [c], bound: 4, rng: &rng), shift = Tensor.randomUniform(shape: [c], bound: 3, rng: &rng)
      input.mutablePointer()[(2 * g.width + 2) * g.inChannels + g.inChannels / 2] = .nan
      var output = Tensor(shape: g.outputShape)
      forward(g, input, weight, output.mutablePointer(), ChannelEpilogue(scale: clamp == nil ? nil : scale.pointer, shift: shift.pointer, clamp: clamp))
      let expected = (0..<output.count).map { index -> Float in
        let channel = index % c, sum = Float(directConvolutionOutput(index: index, input: input, weight: weight, geometry: g, depthwise: depthwise))
        let y = (clamp == nil ? sum : sum * scale[channel]) + shift[channel]
        return clamp.map { min(max(y, 0), $0.ceiling) } ?? y
      }
      let nanIndices = { (values: [Float]) in values.indices.filter { values[$0].isNaN } }
      XCTAssertEqual(nanIndices(output.scalars), nanIndices(expected), "NaN outputs", file: file, line: line)
      XCTAssertFalse(nanIndices(expected).isEmpty, "the NaN reaches some output", file: file, line: line)
      assertClose(output.scalars.map { $0.isNaN ? 0 : $0 }, expected.map { $0.isNaN ? 0 : $0 }, scaled: Tolerance.summation, "y",
                  file: file, line: line)
    }
  }

  func testDepthwiseGradients_matchDirectSums() {
    withEveryKernelPath {
      withEvery("geometry", in: geometries.indices) { index in
        assertBackwardMatchesDirectSums(geometries[index], depthwise: true, seed: 42)
      }
    }
  }

  /// Batch norm + ReLU6 fused (the clamp inside the batch norm's passes, the backward's mask
  /// recomputed from its input) equal the two layers run one by one, value for value, and
  /// the separate batch norm's gradients match finite differences.
  func testBatchNormWithClamp_fusedEqualsSeparate() throws {
    try withEveryKernelPath {
      try withEvery("channels", in: [83, 16, 5]) { channels in
        var rng = SeededGenerator(seed: 43)
        let input = Tensor.randomUniform(shape: [2, 17, 16, channels], bound: 3, rng: &rng)
        let dY = Tensor.randomUniform(shape: input.shape, bound: 1, rng: &rng)
        let layers = { () -> [any Layer] in
          var rng = SeededGenerator(seed: 44)
          let norm = BatchNorm(channels: channels)
          try! norm.weight.assign(.randomUniform(shape: [channels], bound: 8, rng: &rng))
          try! norm.bias.assign(.randomUniform(shape: [channels], bound: 2, rng: &rng))
          return [norm, Activation(.relu6)]
        }
        let output = try assertFusedPassesEqualTheLayers(layers, input: input, dY: dY)
        XCTAssertGreaterThan(output.scalars.filter { $0 == 6 }.count, 0, "some values at the ceiling")
        try checkGradients(of: BatchNorm(channels: channels), input: Tensor.randomUniform(shape: [2, 3, 2, channels], bound: 2, rng: &rng))
      }
    }
  }
}
