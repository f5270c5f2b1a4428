@testable import Engine
import EngineTestSupport
import XCTest

/// When nothing is recorded, a convolution, an evaluation-mode batch norm and an activation
/// run as one kernel pass with the batch norm folded in; the result must be what the three
/// layers compute one after another.
final class ConvolutionChainTests: XCTestCase {
  private struct Case: CustomStringConvertible {
    var kernel: Int, stride: Int, channels: (in: Int, out: Int), groups: Int, activation: ClampActivation?
    var description: String { "\(kernel)x\(kernel)/\(stride) \(channels.in)→\(channels.out) groups \(groups) \(activation.map { "\($0)" } ?? "linear")" }
  }

  private let cases: [Case] = [
    Case(kernel: 3, stride: 2, channels: (5, 12), groups: 1, activation: .relu),  // im2col chunks
    Case(kernel: 1, stride: 1, channels: (12, 20), groups: 1, activation: .relu6),  // pointwise GEMM chunks
    Case(kernel: 1, stride: 1, channels: (12, 20), groups: 1, activation: nil),
    Case(kernel: 3, stride: 1, channels: (16, 24), groups: 1, activation: .relu),  // Winograd
    Case(kernel: 3, stride: 1, channels: (20, 20), groups: 20, activation: .relu6),  // depthwise
    Case(kernel: 5, stride: 2, channels: (36, 36), groups: 36, activation: nil),
  ]

  func testFoldedChain_matchesLayerByLayer() throws {
    try withEvery("case", in: cases) { c in
      var rng = SeededGenerator(seed: 3)
      let conv = Conv2D(inChannels: c.channels.in, outChannels: c.channels.out, kernel: c.kernel, stride: c.stride,
                        padding: .symmetric(c.kernel / 2), groups: c.groups, bias: true, rng: &rng)
      try conv.bias!.assign(.randomUniform(shape: [c.channels.out], bound: 1, rng: &rng))
      let norm = try evaluationBatchNorm(c.channels.out, rng: &rng)
      var layers: [any Layer] = [conv, norm]
      if let kind = c.activation { layers.append(Activation(kind)) }
      let input = Tensor.randomUniform(shape: [2, 9, 10, c.channels.in], bound: 2, rng: &rng)

      var expected = input
      for layer in layers { expected = try layer.forward(expected) }
      let folded = try GradientRecording.withoutGradients { try Sequential(layers)(input) }
      assertClose(folded, expected, scaled: Tolerance.summation, "folded")
      if c.activation == .relu6 { XCTAssertTrue(folded.scalars.contains(6) && folded.scalars.contains(0), "both clamps reached") }
    }
  }

  /// A batch norm in training mode normalises with the batch's statistics: it is not folded.
  func testTrainingModeBatchNorm_isNotFolded() throws {
    var rng = SeededGenerator(seed: 4)
    let conv = Conv2D(inChannels: 3, outChannels: 8, kernel: 3, padding: .symmetric(1), rng: &rng)
    let norm = try evaluationBatchNorm(8, rng: &rng)
    norm.isTraining = true
    let input = Tensor.randomUniform(shape: [2, 6, 6, 3], bound: 1, rng: &rng)
    let output = try GradientRecording.withoutGradients { try Sequential([conv, norm])(input) }
    let mean = (0..<8).map { c in stride(from: c, to: output.count, by: 8).map { Double(output.scalars[$0]) }.reduce(0, +) / 72 }
    let beta = norm.bias.value.scalars.map(Double.init)
    for c in 0..<8 { XCTAssertEqual(mean[c], beta[c], accuracy: 1e-4, "channel \(c) is centred on β") }
  }

  func testResidualSumAndActivation_inOnePass_matchRecordedForward() throws {
    var rng = SeededGenerator(seed: 5)
    let block = Residual(
      body: Sequential([Conv2D(inChannels: 8, outChannels: 8, kernel: 3, padding: .symmetric(1), rng: &rng)]),
      activation: Activation(.relu6))
    let input = Tensor.randomUniform(shape: [2, 5, 5, 8], bound: 4, rng: &rng)
    let recorded = try block(input)
    let lean = try GradientRecording.withoutGradients { try block(input) }
    assertClose(lean, recorded, relative: 0, absolute: 0, "residual")
  }

  /// Residual blocks whose body ends in a convolution and a batch norm take the sum with the
  /// shortcut, and the activation after it, into that convolution's epilogue when nothing is
  /// recorded; the block's output must be what the recorded forward computes layer by layer:
  /// bottleneck (1×1 last, panel GEMM or OpenBLAS) and basic blocks (3×3 last, Winograd),
  /// identity and projection shortcuts, with and without an activation, flat and nested bodies.
  func testResidualChain_sumInTheLastEpilogue_matchesRecordedForward() throws {
    struct Block: CustomStringConvertible {
      var lastKernel: Int, channels: Int, stride: Int, activation: ClampActivation?, nested: Bool
      var description: String {
        "\(lastKernel)x\(lastKernel) last, \(channels) channels, stride \(stride), \(activation.map { "\($0)" } ?? "linear")\(nested ? ", nested" : "")"
      }
    }
    let blocks = [
      Block(lastKernel: 1, channels: 128, stride: 1, activation: .relu, nested: false),  // panel GEMM (inner 64)
      Block(lastKernel: 1, channels: 144, stride: 2, activation: .relu, nested: false),  // a partial panel
      Block(lastKernel: 3, channels: 32, stride: 1, activation: .relu, nested: false),  // Winograd
      Block(lastKernel: 3, channels: 40, stride: 2, activation: nil, nested: true),
      Block(lastKernel: 1, channels: 20, stride: 1, activation: .relu6, nested: true),  // OpenBLAS and the epilogue loop
    ]
    try withEveryMatrixKernel { _ in
      try withEvery("block", in: blocks) { b in
        var rng = SeededGenerator(seed: 6)
        let width = b.channels / 2
        func conv(_ i: Int, _ o: Int, _ k: Int, _ s: Int) -> Conv2D {
          Conv2D(inChannels: i, outChannels: o, kernel: k, stride: s, padding: .symmetric(k / 2), bias: false, rng: &rng)
        }
        let leading: [any Layer] = [conv(b.channels, width, 3, b.stride), try evaluationBatchNorm(width, rng: &rng), Activation(.relu)]
        let last: [any Layer] = [conv(width, b.channels, b.lastKernel, 1), try evaluationBatchNorm(b.channels, rng: &rng)]
        let body = Sequential(leading + (b.nested ? [Sequential(last)] : last))
        let shortcut = b.stride == 1 ? nil : Sequential([conv(b.channels, b.channels, 1, b.stride), try evaluationBatchNorm(b.channels, rng: &rng)])
        let block = Residual(body: body, shortcut: shortcut, activation: b.activation.map { Activation($0) })
        XCTAssertNotNil(ResidualChain(block), "the block's last convolution takes the sum")
        let input = Tensor.randomUniform(shape: [2, 7, 9, b.channels], bound: 2, rng: &rng)
        try assertRecordingNothingMatchesRecorded(block, input: input, activation: b.activation)
      }
    }
  }

  /// A shortcut whose shape differs from the body's output is reported as the residual sum's
  /// error when the sum runs in the last convolution's epilogue too.
  func testResidualChain_mismatchedShortcut_namesTheSum() throws {
    var rng = SeededGenerator(seed: 7)
    let body = Sequential([Conv2D(inChannels: 4, outChannels: 6, kernel: 1, rng: &rng), try evaluationBatchNorm(6, rng: &rng)])
    let block = Residual(body: body)
    XCTAssertThrowsError(try GradientRecording.withoutGradients { try block(Tensor(shape: [1, 3, 3, 4])) }) { error in
      XCTAssertEqual("\(error)", "Residual sum (body vs shortcut): expected [1, 3, 3, 6], got [1, 3, 3, 4]")
    }
  }

  /// A batch norm in evaluation mode with running statistics, γ and β away from 0 and 1.
  private func evaluationBatchNorm(_ channels: Int, rng: inout SeededGenerator) throws -> BatchNorm {
    let norm = BatchNorm(channels: channels)
    try norm.runningMean.assign(.randomUniform(shape: [channels], bound: 1, rng: &rng))
    let variance = Tensor.randomUniform(shape: [channels], bound: 1, rng: &rng).scalars.map { $0 + 1.5 }
    try norm.runningVariance.assign(Tensor(shape: [channels], values: variance))
    try norm.weight.assign(.randomUniform(shape: [channels], bound: 2, rng: &rng))
    try norm.bias.assign(.randomUniform(shape: [channels], bound: 1, rng: &rng))
    norm.isTraining = false
    return norm
  }
}

/// Asserts that `block`, run recording nothing (its fused path), gives what its recorded
/// forward gives, to the summation tolerance; with ReLU6 after the sum, that both of its
/// clamps are reached.
private func assertRecordingNothingMatchesRecorded(
  _ block: Residual, input: Tensor, activation: ClampActivation?, file: StaticString = #filePath, line: UInt = #line
) throws {
  let recorded = try block(input)
  let folded = try GradientRecording.withoutGradients { try block(input) }
  assertClose(folded, recorded, scaled: Tolerance.summation, "block", file: file, line: line)
  if activation == .relu6 {
    XCTAssertTrue(folded.scalars.contains(6) && folded.scalars.contains(0), "both clamps reached", file: file, line: line)
  }
}

/// Inverted bottlenecks run band by band must compute what their layers compute one by one:
/// flat (EfficientNet-Lite) and nested (torchvision's MobileNetV2) layouts, strides 1 and 2,
/// TensorFlow "SAME" padding, and without an expansion layer.
final class InvertedBottleneckChainTests: XCTestCase {
  private struct Case: CustomStringConvertible {
    var kernel: Int, stride: Int, padding: ConvPadding, expansion: Int, nested: Bool
    var description: String { "k\(kernel) s\(stride) \(padding) t\(expansion) \(nested ? "nested" : "flat")" }
  }

  func testBandByBand_matchesLayerByLayer() throws {
    let saved = InvertedBottleneckChain.bandFloats
    InvertedBottleneckChain.bandFloats = 2048  // a few rows per band: many bands, overlapping windows
    defer { InvertedBottleneckChain.bandFloats = saved }
    let cases = [
      Case(kernel: 3, stride: 1, padding: .symmetric(1), expansion: 6, nested: true),
      Case(kernel: 3, stride: 2, padding: .symmetric(1), expansion: 6, nested: true),
      Case(kernel: 5, stride: 2, padding: .same, expansion: 6, nested: false),
      Case(kernel: 3, stride: 1, padding: .same, expansion: 1, nested: false),
    ]
    // Every matrix kernel: the 1×1 products of a band run on the panel GEMM (for any inner
    // dimension, the expansion's rows staying in cache) or OpenBLAS and the Swift epilogue.
    try withEveryMatrixKernel { _ in try withEvery("case", in: cases) { c in
      var rng = SeededGenerator(seed: 6)
      let (inChannels, hidden, outChannels) = (8, 8 * c.expansion, 12)
      var chains: [[any Layer]] = []
      if c.expansion != 1 { chains.append(evaluationChain(inChannels, hidden, kernel: 1, stride: 1, padding: .symmetric(0), groups: 1, .relu6, &rng)) }
      chains.append(evaluationChain(hidden, hidden, kernel: c.kernel, stride: c.stride, padding: c.padding, groups: hidden, .relu6, &rng))
      chains.append(evaluationChain(hidden, outChannels, kernel: 1, stride: 1, padding: .symmetric(0), groups: 1, nil, &rng))
      let layers: [any Layer] = c.nested ? chains.dropLast().map { Sequential($0) } + chains.last! : chains.flatMap { $0 }
      let block = Sequential(layers)
      let input = Tensor.randomUniform(shape: [2, 15, 11, inChannels], bound: 2, rng: &rng)

      var expected = input
      for layer in chains.flatMap({ $0 }) { expected = try layer.forward(expected) }
      XCTAssertNotNil(InvertedBottleneckChain(block.children, at: 0), "the block is recognised")
      let banded = try GradientRecording.withoutGradients { try block(input) }
      assertClose(banded, expected, scaled: Tolerance.summation, "banded")
    } }
  }

  /// Inverted residuals (MobileNetV2's nested layers, EfficientNet-Lite's flat ones) run band
  /// by band too, the projection adding the shortcut to each band: the block's output is what
  /// the recorded forward computes layer by layer, with and without an activation after the sum.
  func testInvertedResidual_bandByBandWithTheSum_matchesLayerByLayer() throws {
    let saved = InvertedBottleneckChain.bandFloats
    InvertedBottleneckChain.bandFloats = 2048
    defer { InvertedBottleneckChain.bandFloats = saved }
    let cases: [(nested: Bool, kernel: Int, activation: ClampActivation?)] = [(true, 3, nil), (false, 5, nil), (false, 3, .relu6)]
    try withEveryMatrixKernel { _ in try withEvery("case", in: cases.indices) { index in
      let c = cases[index]
      var rng = SeededGenerator(seed: 9)
      let block = invertedResidual(channels: 12, kernel: c.kernel, nested: c.nested, activation: c.activation, &rng)
      XCTAssertEqual(ResidualChain(block)?.runsInBands, true, "the body runs band by band")
      let input = Tensor.randomUniform(shape: [2, 13, 10, 12], bound: 2, rng: &rng)
      try assertRecordingNothingMatchesRecorded(block, input: input, activation: c.activation)
    } }
  }

  /// A shortcut whose shape differs from the bottleneck's output is reported as the sum's error.
  func testInvertedResidual_mismatchedShortcut_namesTheSum() throws {
    var rng = SeededGenerator(seed: 10)
    let shortcut = Conv2D(inChannels: 12, outChannels: 12, kernel: 1, stride: 2, rng: &rng)
    let block = invertedResidual(channels: 12, kernel: 3, nested: false, activation: nil, shortcut: shortcut, &rng)
    XCTAssertThrowsError(try GradientRecording.withoutGradients { try block(Tensor(shape: [1, 6, 6, 12])) }) { error in
      XCTAssertEqual("\(error)", "Residual sum (body vs shortcut): expected [1, 6, 6, 12], got [1, 3, 3, 12]")
    }
  }

  /// An expansion (×4), a depthwise `kernel`×`kernel` and a projection back to `channels`,
  /// their layers nested as torchvision's MobileNetV2 or flat as EfficientNet-Lite, summed
  /// with the input (or `shortcut`'s output) and then `activation`.
  private func invertedResidual(
    channels: Int, kernel: Int, nested: Bool, activation: ClampActivation?, shortcut: (any Layer)? = nil,
    _ rng: inout SeededGenerator
  ) -> Residual {
    let hidden = channels * 4
    let chains = [
      evaluationChain(channels, hidden, kernel: 1, stride: 1, padding: .symmetric(0), groups: 1, .relu6, &rng),
      evaluationChain(hidden, hidden, kernel: kernel, stride: 1, padding: .same, groups: hidden, .relu6, &rng),
      evaluationChain(hidden, channels, kernel: 1, stride: 1, padding: .symmetric(0), groups: 1, nil, &rng),
    ]
    let body = nested ? Sequential([Sequential(chains.dropLast().map { Sequential($0) } + chains.last!)]) : Sequential(chains.flatMap { $0 })
    return Residual(body: body, shortcut: shortcut, activation: activation.map { Activation($0) })
  }
}
