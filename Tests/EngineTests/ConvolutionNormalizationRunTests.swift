@testable import Engine
import EngineTestSupport
import XCTest

/// A convolution hands the batch norm after it, in training, the statistics of its output
/// (``ConvolutionNormalizationRun``), summed chunk by chunk while each chunk is in cache.
final class ConvolutionNormalizationRunTests: XCTestCase {
  /// The statistics a 1×1 convolution (through the panel GEMM at 72 input channels, through
  /// OpenBLAS at 24) and a depthwise one collect, over several chunks, against the output's
  /// mean and biased variance summed in Double; offset outputs (a large mean) included, where
  /// a one-pass sum of squares would lose the variance.
  func testCollectedStatistics_matchDoubleSums() throws {
    try withEveryMatrixKernel { _ in
      try withEvery("convolution", in: ["1×1 from 72 channels", "1×1 from 24 channels", "depthwise"]) { kind in
        var rng = SeededGenerator(seed: 51)
        let inChannels = kind == "1×1 from 24 channels" ? 24 : 72
        let convolution = kind == "depthwise"
          ? Conv2D(inChannels: 72, outChannels: 72, kernel: 3, padding: .symmetric(1), groups: 72, rng: &rng)
          : Conv2D(inChannels: inChannels, outChannels: 70, kernel: 1, rng: &rng)
        try convolution.bias!.assign(.randomUniform(shape: [convolution.outChannels], bound: 50, rng: &rng))
        // 2·40·36 = 2880 rows: two chunks of the 1×1 convolutions, 80 of the depthwise one.
        let input = Tensor.randomUniform(shape: [2, 40, 36, inChannels], bound: 2, rng: &rng)
        let (output, collected) = try convolution.forwardCollectingStatistics(input)
        let statistics = try XCTUnwrap(collected)
        let c = convolution.outChannels, rows = output.count / c
        var mean = [Double](repeating: 0, count: c), variance = [Double](repeating: 0, count: c)
        for (index, value) in output.scalars.enumerated() { mean[index % c] += Double(value) / Double(rows) }
        for (index, value) in output.scalars.enumerated() {
          let deviation = Double(value) - mean[index % c]
          variance[index % c] += deviation * deviation / Double(rows)
        }
        assertClose(statistics.mean, mean.map { Float($0) }, scaled: Tolerance.summation, "mean")
        assertClose(statistics.variance, variance.map { Float($0) }, scaled: Tolerance.summation, "variance")
      }
    }
  }

  /// im2col and Winograd convolutions collect nothing; the batch norm sums for itself.
  func testIm2colConvolution_collectsNoStatistics() throws {
    var rng = SeededGenerator(seed: 52)
    let convolution = Conv2D(inChannels: 3, outChannels: 8, kernel: 3, stride: 2, padding: .symmetric(1), rng: &rng)
    let (_, statistics) = try convolution.forwardCollectingStatistics(.randomUniform(shape: [1, 9, 9, 3], bound: 1, rng: &rng))
    XCTAssertNil(statistics)
  }
}
