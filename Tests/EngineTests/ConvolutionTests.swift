@testable import Engine
import EngineTestSupport
import XCTest

final class ConvolutionTests: XCTestCase {
  // MARK: - Fast path against the direct seven-loop convolution

  func testConvolution_matchesDirectLoops_acrossGeometries() throws {
    let paddings: [ConvPadding] = [.symmetric(0), .symmetric(1), .same, .explicit(top: 0, bottom: 2, left: 1, right: 0)]
    try withEvery("kernel", in: [1, 3, 5]) { kernel in
      try withEvery("stride", in: [1, 2]) { stride in
        try withEvery("padding", in: paddings) { padding in
          try assertMatchesDirect(n: 2, h: 7, w: 6, ic: 3, oc: 5, kernel: kernel, stride: stride, padding: padding)
        }
      }
    }
  }

  /// Large enough that im2col chunks end inside an image and span image boundaries.
  func testConvolution_matchesDirectLoops_whenChunksCrossImages() throws {
    try assertMatchesDirect(n: 2, h: 40, w: 40, ic: 3, oc: 4, kernel: 3, stride: 1, padding: .symmetric(1))
    try assertMatchesDirect(n: 3, h: 9, w: 9, ic: 256, oc: 2, kernel: 3, stride: 1, padding: .symmetric(1))
  }

  /// 3×3 stride-1 convolutions with 16 or more channels go through Winograd F(4×4, 3×3):
  /// sizes that are not multiples of the 4×4 tile, channel counts with a partial 8-channel
  /// block, and every padding the window may have.
  func testWinogradConvolution_matchesDirectLoops() throws {
    let paddings: [ConvPadding] = [.symmetric(1), .symmetric(0), .same, .explicit(top: 2, bottom: 0, left: 0, right: 1)]
    try withEvery("padding", in: paddings) { padding in
      try withEvery("channels", in: [(16, 16), (20, 17), (33, 40)]) { channels in
        try assertMatchesDirect(n: 3, h: 9, w: 6, ic: channels.0, oc: channels.1, kernel: 3, stride: 1, padding: padding)
      }
    }
    // More tiles than one block holds, split among the workers.
    try assertMatchesDirect(n: 2, h: 30, w: 30, ic: 16, oc: 16, kernel: 3, stride: 1, padding: .symmetric(1))
  }

  /// Winograd's input and weight gradients against the direct sums, for the same paddings.
  func testWinogradGradients_matchDirectSums() throws {
    let paddings: [ConvPadding] = [.symmetric(1), .symmetric(0), .explicit(top: 2, bottom: 0, left: 0, right: 1)]
    try withEvery("padding", in: paddings) { padding in
      try withEvery("shape", in: [(2, 26, 26, 16, 16), (2, 9, 7, 17, 16)]) { shape in
        // The first sums blocks of tiles per worker; the second has few tiles for its
        // channels, so its weight gradient splits the 36 points among the workers.
        var rng = SeededGenerator(seed: 8)
        let (n, h, w, ic, oc) = shape
        let conv = Conv2D(inChannels: ic, outChannels: oc, kernel: 3, padding: padding, bias: false, rng: &rng)
        let input = Tensor.randomUniform(shape: [n, h, w, ic], bound: 1, rng: &rng)
        let g = conv.geometry(for: input.shape)
        let dY = Tensor.randomUniform(shape: g.outputShape, bound: 1, rng: &rng)
        _ = try conv(input)
        let dX = try XCTUnwrap(conv.backward(dY, needsInputGradient: true))
        let (x, weight, gradient) = (input.scalars, conv.weight.value.scalars, dY.scalars)
        var expectedDX = [Double](repeating: 0, count: x.count), expectedDW = [Double](repeating: 0, count: weight.count)
        for image in 0..<n {
          for oh in 0..<g.outHeight {
            for ow in 0..<g.outWidth {
              g.forEachTap(oh: oh, ow: ow) { kh, kw, ih, iw in
                for i in 0..<ic {
                  for o in 0..<oc {
                    let (xi, wi) = (((image * h + ih) * w + iw) * ic + i, ((kh * 3 + kw) * ic + i) * oc + o)
                    let dy = Double(gradient[((image * g.outHeight + oh) * g.outWidth + ow) * oc + o])
                    expectedDX[xi] += dy * Double(weight[wi])
                    expectedDW[wi] += dy * Double(x[xi])
                  }
                }
              }
            }
          }
        }
        assertClose(dX.scalars, expectedDX.map(Float.init), scaled: Tolerance.winograd, "dX")
        assertClose(conv.weight.gradient.scalars, expectedDW.map(Float.init), scaled: Tolerance.winograd, "dW")
      }
    }
  }

  /// The direct sums `podium bench --kernels` checks backward kernels with agree with the
  /// kernels on every value, for strided, padded, dense and depthwise geometries (so the
  /// benchmark's check itself is right).
  func testBenchmarkGradientChecks_agreeWithTheKernels() throws {
    let cases: [(ConvGeometry, Bool)] = [
      (ConvGeometry(input: (2, 7, 6, 5), outChannels: 4, kernel: (3, 3), stride: 2, padding: .symmetric(1)), false),
      (ConvGeometry(input: (2, 9, 9, 16), outChannels: 16, kernel: (3, 3), stride: 1, padding: .symmetric(1)), false),
      (ConvGeometry(input: (2, 8, 7, 6), outChannels: 6, kernel: (3, 3), stride: 2, padding: .same), true),
    ]
    withEvery("case", in: cases.indices) { index in
      let (g, depthwise) = cases[index]
      assertBackwardMatchesDirectSums(g, depthwise: depthwise, seed: 9)
    }
  }

  func testConvolution_batchOfOne() throws {
    try assertMatchesDirect(n: 1, h: 5, w: 5, ic: 2, oc: 3, kernel: 3, stride: 2, padding: .same)
  }

  private func assertMatchesDirect(
    n: Int, h: Int, w: Int, ic: Int, oc: Int, kernel: Int, stride: Int, padding: ConvPadding,
    file: StaticString = #filePath, line: UInt = #line
  ) throws {
    var rng = SeededGenerator(seed: 1)
    let conv = Conv2D(inChannels: ic, outChannels: oc, kernel: kernel, stride: stride, padding: padding, rng: &rng)
    try conv.bias!.assign(.randomUniform(shape: [oc], bound: 1, rng: &rng))
    let input = Tensor.randomUniform(shape: [n, h, w, ic], bound: 1, rng: &rng)
    let output = try conv(input)
    let g = conv.geometry(for: input.shape)
    var expected = Tensor(shape: g.outputShape)
    input.withUnsafeBufferPointer { x in
      conv.weight.value.withUnsafeBufferPointer { wt in
        conv.bias!.value.withUnsafeBufferPointer { b in
          expected.withUnsafeMutableBufferPointer { y in
            conv2dReference(input: x.baseAddress!, weight: wt.baseAddress!, bias: b.baseAddress!,
                            output: y.baseAddress!, geometry: g)
          }
        }
      }
    }
    let tolerance = g.suitsWinograd ? Tolerance.winograd : Tolerance.summation
    assertClose(output, expected, scaled: tolerance, "conv", file: file, line: line)
  }

  func testDepthwise_matchesDirectLoops_acrossGeometries() throws {
    let paddings: [ConvPadding] = [.symmetric(0), .symmetric(1), .same, .explicit(top: 2, bottom: 0, left: 0, right: 1)]
    try withEvery("kernel", in: [3, 5]) { kernel in
      try withEvery("stride", in: [1, 2]) { stride in
        try withEvery("padding", in: paddings) { padding in
          try withEvery("channels", in: [5, 16, 19]) { channels in
            try assertDepthwiseMatchesDirect(h: 7, w: 8, c: channels, kernel: kernel, stride: stride, padding: padding)
          }
        }
      }
    }
  }

  private func assertDepthwiseMatchesDirect(
    h: Int, w: Int, c: Int, kernel: Int, stride: Int, padding: ConvPadding
  ) throws {
    var rng = SeededGenerator(seed: 2)
    let conv = Conv2D(inChannels: c, outChannels: c, kernel: kernel, stride: stride, padding: padding, groups: c, rng: &rng)
    try conv.bias!.assign(.randomUniform(shape: [c], bound: 1, rng: &rng))
    let input = Tensor.randomUniform(shape: [2, h, w, c], bound: 1, rng: &rng)
    let output = try conv(input)
    let g = conv.geometry(for: input.shape)
    let (x, weight, bias) = (input.scalars, conv.weight.value.scalars, conv.bias!.value.scalars)
    var expected = [Float]()
    for n in 0..<2 {
      for oh in 0..<g.outHeight {
        for ow in 0..<g.outWidth {
          for ch in 0..<c {
            var sum = Double(bias[ch])
            for kh in 0..<kernel {
              for kw in 0..<kernel {
                let ih = oh * stride - g.padTop + kh, iw = ow * stride - g.padLeft + kw
                guard ih >= 0, ih < h, iw >= 0, iw < w else { continue }
                sum += Double(x[((n * h + ih) * w + iw) * c + ch]) * Double(weight[(kh * kernel + kw) * c + ch])
              }
            }
            expected.append(Float(sum))
          }
        }
      }
    }
    assertClose(output.scalars, expected, scaled: Tolerance.summation, "depthwise")
  }

  // MARK: - PyTorch reference values

  func testConvolution_matchesPyTorchForwardAndGradients() throws {
    let cases = try Fixtures.load("convolution")
    try withEvery("case", in: cases.keys.sorted()) { name in
      let fixture = try cases.object(name)
      let conv = try makeConvolution(fixture)
      try conv.weight.assign(try fixture.tensor("weight"))
      try conv.bias!.assign(try fixture.tensor("bias"))
      try assertMatchesFixture(conv, fixture, gradients: [(conv.weight, "dW"), (conv.bias!, "dBias")], name)
    }
  }

  private func makeConvolution(_ fixture: [String: Any]) throws -> Conv2D {
    let input = try fixture.tensor("input")
    let padding: ConvPadding = (fixture["padding"] as? String) == "same" ? .same : .symmetric(Int(try fixture.number("padding")))
    let depthwise = fixture["depthwise"] as? Bool ?? false
    var rng = SeededGenerator(seed: 0)
    return Conv2D(
      inChannels: input.shape[3], outChannels: Int(try fixture.number("outChannels")),
      kernel: Int(try fixture.number("kernel")), stride: Int(try fixture.number("stride")),
      padding: padding, groups: depthwise ? input.shape[3] : 1, rng: &rng)
  }

  // MARK: - Finite differences

  func testConvolution_gradientsMatchFiniteDifferences() throws {
    let configurations: [(ic: Int, oc: Int, k: Int, s: Int, p: ConvPadding, groups: Int, hw: Int)] = [
      (3, 4, 3, 1, .symmetric(1), 1, 5),
      (3, 4, 3, 2, .same, 1, 6),
      (5, 3, 1, 1, .symmetric(0), 1, 4),
      (4, 6, 1, 2, .symmetric(0), 1, 5),
      (4, 4, 3, 1, .symmetric(1), 4, 5),
      (3, 3, 5, 2, .same, 3, 7),
      (256, 2, 3, 1, .symmetric(1), 1, 9),
      (12, 12, 3, 2, .same, 12, 7),  // one full 8-channel block and a partial one
      (16, 18, 3, 1, .symmetric(1), 1, 6),  // Winograd forward and input gradient
      (17, 16, 3, 1, .symmetric(0), 1, 7),
    ]
    try withEvery("conv", in: configurations) { c in
      var rng = SeededGenerator(seed: 5)
      let conv = Conv2D(inChannels: c.ic, outChannels: c.oc, kernel: c.k, stride: c.s, padding: c.p,
                        groups: c.groups, rng: &rng)
      let input = Tensor.randomUniform(shape: [2, c.hw, c.hw, c.ic], bound: 1, rng: &rng)
      try checkGradients(of: conv, input: input)
    }
  }

  func testConvolution_frozenWeightsGetNoGradient() throws {
    var rng = SeededGenerator(seed: 2)
    let conv = Conv2D(inChannels: 2, outChannels: 3, kernel: 3, padding: .symmetric(1), rng: &rng)
    conv.setTrainable(false)
    _ = try conv(Tensor.randomUniform(shape: [1, 4, 4, 2], bound: 1, rng: &rng))
    XCTAssertNil(conv.backward(Tensor(shape: [1, 4, 4, 3], repeating: 1), needsInputGradient: false))
    XCTAssertEqual(conv.weight.gradient.scalars, [Float](repeating: 0, count: conv.weight.value.count))
  }
}
