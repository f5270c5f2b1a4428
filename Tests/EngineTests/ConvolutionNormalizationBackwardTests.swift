@testable import Engine
import EngineTestSupport
import XCTest

/// A convolution, the batch norm after it and its activation go back as one, the batch
/// norm's input gradient written band by band into cache for a depthwise or 1×1
/// convolution; forward, the expansion's and the depthwise convolution's activations are never
/// written but computed band by band for the depthwise convolution and chunk by chunk for the
/// projection (``PendingActivationRun``). Outputs and gradients must be
/// those of the layers run one after another.
final class ConvolutionNormalizationBackwardTests: XCTestCase {
  private struct Case {
    var kernel: Int, stride: Int, padding: ConvPadding, activation: ClampActivation?
  }

  private let cases = [
    Case(kernel: 3, stride: 1, padding: .symmetric(1), activation: .relu6),  // MobileNetV2
    Case(kernel: 3, stride: 2, padding: .symmetric(1), activation: .relu6),
    Case(kernel: 5, stride: 2, padding: .same, activation: .relu),  // EfficientNet-Lite's 5×5
    Case(kernel: 3, stride: 1, padding: .symmetric(1), activation: nil),
  ]

  /// An inverted bottleneck: 1×1 expansion → BN → ReLU6 → depthwise → BN → activation →
  /// 1×1 projection → BN. Each convolution gets its output gradient from its batch norm
  /// chunk by chunk, and its input gradient goes on into the run before it. With
  /// `expansionBias`, the expansion has a bias to train and takes its gradient whole.
  private func network(_ c: Case, trainDepthwise: Bool = true, expansionBias: Bool = false) -> [any Layer] {
    var rng = SeededGenerator(seed: 21)
    let (expanded, filtered, projected) = (BatchNorm(channels: 10), BatchNorm(channels: 10), BatchNorm(channels: 4))
    try! filtered.weight.assign(.randomUniform(shape: [10], bound: 2, rng: &rng))
    try! filtered.bias.assign(.randomUniform(shape: [10], bound: 1, rng: &rng))
    let depthwise = Conv2D(
      inChannels: 10, outChannels: 10, kernel: c.kernel, stride: c.stride, padding: c.padding, groups: 10, bias: false,
      rng: &rng)
    depthwise.weight.isTrainable = trainDepthwise
    let expansion = Conv2D(inChannels: 3, outChannels: 10, kernel: 1, bias: expansionBias, rng: &rng)
    let projection = Conv2D(inChannels: 10, outChannels: 4, kernel: 1, bias: false, rng: &rng)
    return [expansion, expanded, Activation(.relu6), depthwise, filtered] + (c.activation.map { [Activation($0)] } ?? [])
      + [projection, projected]
  }

  func testGradientsEqualTheLayersRunOneByOne_withManyBands() throws {
    let saved = (ConvolutionNormalizationBackward.chunkFloats, PendingActivationRun.bandFloats)
    defer { (ConvolutionNormalizationBackward.chunkFloats, PendingActivationRun.bandFloats) = saved }
    var rng = SeededGenerator(seed: 4)
    let input = Tensor.randomUniform(shape: [2, 11, 7, 3], bound: 2, rng: &rng)
    for c in cases {
      // Bands of one row (every band edge; 1×1 chunks of a few pixels), a few rows, one band.
      for floats in [1, 23, 150, 1 << 16] {
        (ConvolutionNormalizationBackward.chunkFloats, PendingActivationRun.bandFloats) = (floats, floats)
        let dY = Tensor.randomUniform(shape: try Sequential(network(c)).forward(input).shape, bound: 1, rng: &rng)
        // Weight gradients are summed band by band, the batch norms' statistics chunk by
        // chunk: values agree to the summation tolerance.
        try assertFusedPassesEqualTheLayers({ network(c) }, input: input, dY: dY, tolerance: Tolerance.summation)
      }
    }
  }

  /// The batch norm before a 1×1 or depthwise convolution takes its gradient sums from the
  /// convolution's input gradient as each chunk is written: every row once, and the sums its
  /// own pass over the whole gradient takes.
  func testGatheredSums_coverEveryRowAndEqualTheBatchNormsOwnPass() throws {
    let saved = ConvolutionNormalizationBackward.chunkFloats
    defer { ConvolutionNormalizationBackward.chunkFloats = saved }
    var rng = SeededGenerator(seed: 12)
    let input = Tensor.randomUniform(shape: [2, 9, 7, 3], bound: 2, rng: &rng)
    for c in cases {
      for floats in [1, 23, 150, 1 << 16] {
        ConvolutionNormalizationBackward.chunkFloats = floats
        let network = Sequential(network(c))
        let output = try network(input)
        let children = network.children
        // Projection, depthwise and expansion runs, last to first.
        let runs = try [children.count - 1, children.count - 3, 2].map {
          try XCTUnwrap(ConvolutionNormalizationBackward(children, endingAt: $0), "\(c) run ending at \($0)")
        }
        var gradient = Tensor.randomUniform(shape: output.shape, bound: 1, rng: &rng), gathered: [Double]?
        for (run, before) in zip(runs, runs.dropFirst()) {
          let gatherer = try XCTUnwrap(before.gradientSumsGatherer())
          gradient = try XCTUnwrap(run.backward(gradient, needsInputGradient: true, gathered: gathered, gathering: gatherer))
          let ownPass = gatherer.sums.total(over: gradient.pointer).map(Float.init)
          gathered = try XCTUnwrap(gatherer.total, "\(c), \(floats) floats: not every row gathered")
          assertClose(gathered!.map(Float.init), ownPass, scaled: Tolerance.summation, "\(c), \(floats) floats")
        }
      }
    }
  }

  /// torchvision's MobileNetV2 nests each convolution, batch norm and ReLU6 in a `Sequential`
  /// of its own: the runs are found across them.
  func testNestedRuns_areFoundAndMatchTheLayers() throws {
    var rng = SeededGenerator(seed: 9)
    let input = Tensor.randomUniform(shape: [2, 6, 5, 3], bound: 2, rng: &rng)
    let nested = {
      let layers = self.network(self.cases[1])
      return [Sequential(Array(layers[0..<3])), Sequential(Array(layers[3..<6])), layers[6], layers[7]] as [any Layer]
    }
    // Expansion, depthwise and projection: neither activation between them is written.
    let run = try XCTUnwrap(PendingActivationRun(Sequential(nested()).children, at: 0))
    XCTAssertEqual(run.runs.count, 3)
    XCTAssertEqual(run.length, 4)
    let dY = Tensor.randomUniform(shape: try Sequential(nested()).forward(input).shape, bound: 1, rng: &rng)
    try assertFusedPassesEqualTheLayers(nested, input: input, dY: dY, tolerance: Tolerance.summation)
  }

  /// A frozen depthwise filter still passes the input gradient on, banded; an expansion with
  /// a bias to train takes its output gradient whole.
  func testWithAFrozenFilterOrATrainedBias_theGradientsStillMatch() throws {
    var rng = SeededGenerator(seed: 6)
    let input = Tensor.randomUniform(shape: [1, 8, 6, 3], bound: 2, rng: &rng)
    let dY = Tensor.randomUniform(shape: [1, 8, 6, 4], bound: 1, rng: &rng)
    try assertFusedPassesEqualTheLayers({ network(cases[0], trainDepthwise: false) }, input: input, dY: dY, tolerance: Tolerance.summation)
    try assertFusedPassesEqualTheLayers({ network(cases[0], expansionBias: true) }, input: input, dY: dY, tolerance: Tolerance.summation)
  }

  /// Every input row lies in exactly one band, every output row is owned by exactly one
  /// band, and a band reaches every output row whose window touches its rows and owns only
  /// rows it reaches.
  func testBandsCoverEveryRowOnce() {
    for (kernel, stride, padding) in [(3, 1, 1), (3, 2, 1), (5, 2, 2), (5, 1, 2), (1, 2, 0), (3, 2, 0)] {
      for height in [1, 2, 7, 12] where height + 2 * padding >= kernel {
        for capacity in [1, 2, 3, 100] {
          let g = ConvGeometry(
            input: (1, height, 4, 2), outChannels: 2, kernel: (kernel, kernel), stride: stride, padding: .symmetric(padding))
          let bands = DepthwiseBands(geometry: g, outputRowsFitting: capacity)
          let all = (0..<bands.count).map { bands[$0] }
          let label = "k\(kernel) s\(stride) p\(padding) h\(height) capacity \(capacity)"
          XCTAssertEqual(all.flatMap { Array($0.inputRows) }, Array(0..<height), label)
          XCTAssertEqual(all.flatMap { Array($0.owned) }, Array(0..<g.outHeight), label)
          for band in all {
            XCTAssertLessThanOrEqual(band.reached.count, bands.outputRowCapacity, label)
            XCTAssertTrue(
              band.owned.isEmpty || (band.reached.contains(band.owned.lowerBound) && band.owned.upperBound <= band.reached.upperBound),
              label)
            for oh in 0..<g.outHeight {
              let taps = (oh * stride - padding)..<(oh * stride - padding + kernel)
              XCTAssertEqual(band.reached.contains(oh), taps.overlaps(band.inputRows), "\(label): output row \(oh)")
            }
          }
        }
      }
    }
  }
}
