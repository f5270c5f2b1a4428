import Engine
import EngineTestSupport
import XCTest

final class BatchNormTests: XCTestCase {
  func testBatchNorm_trainingMode_matchesPyTorch() throws {
    let fixture = try Fixtures.load("batchnorm")
    let bn = BatchNorm(channels: 4)
    try bn.weight.assign(try fixture.tensor("gamma"))
    try bn.bias.assign(try fixture.tensor("beta"))
    try assertMatchesFixture(bn, fixture, gradients: [(bn.weight, "dGamma"), (bn.bias, "dBeta")], "batch norm")
    assertClose(bn.runningMean.value, try fixture.tensor("runningMean"), scaled: Tolerance.summation, "running mean")
    assertClose(bn.runningVariance.value, try fixture.tensor("runningVar"), scaled: Tolerance.summation, "running variance (unbiased)")
  }

  func testBatchNorm_evaluationMode_usesRunningStatistics() throws {
    let fixture = try Fixtures.load("batchnorm")
    let bn = BatchNorm(channels: 4)
    try bn.weight.assign(try fixture.tensor("gamma"))
    try bn.bias.assign(try fixture.tensor("beta"))
    try bn.runningMean.assign(try fixture.tensor("runningMean"))
    try bn.runningVariance.assign(try fixture.tensor("runningVar"))
    bn.setTraining(false)
    assertClose(try bn(try fixture.tensor("evalInput")), try fixture.tensor("evalOutput"), scaled: Tolerance.summation, "eval output")
    XCTAssertEqual(bn.runningMean.value, try fixture.tensor("runningMean"), "evaluation leaves running stats alone")
  }

  func testBatchNorm_gradientsMatchFiniteDifferences() throws {
    var rng = SeededGenerator(seed: 8)
    let input = Tensor.randomUniform(shape: [2, 3, 3, 4], bound: 2, rng: &rng)
    let bn = BatchNorm(channels: 4)
    try bn.weight.assign(.randomUniform(shape: [4], bound: 2, rng: &rng))
    try checkGradients(of: bn, input: input)
    bn.setTraining(false)
    try checkGradients(of: bn, input: input)
    // Frozen γ and β in evaluation mode (a frozen trunk's): backward takes no sums.
    for parameter in [bn.weight, bn.bias] { parameter.isTrainable = false }
    try checkGradients(of: bn, input: input)
    let features = BatchNorm(channels: 5)  // BatchNorm1d on [N, C]
    try checkGradients(of: features, input: Tensor.randomUniform(shape: [6, 5], bound: 1, rng: &rng))
  }

  /// Activations far from zero (a mean of 1000, a spread of 0.03) keep their variance: the
  /// blocks' deviations are taken from each block's own mean before the blocks merge, so
  /// nothing subtracts two large squares. Rows span several blocks, both workers and a
  /// partial last block; the reference is a two-pass sum in Double. Every kernel variant.
  func testStatistics_farFromZero_matchTwoPassDouble() throws {
    withEveryMatrixKernel { _ in
      let (rows, channels) = (3 * 256 * 2 + 77, 3)
      var rng = SeededGenerator(seed: 31)
      let values = (0..<rows * channels).map { i -> Float in
        let noise = Float.random(in: -0.03...0.03, using: &rng)
        return [1000, -2, 0][i % channels] + noise * Float(1 + i % channels)
      }
      let (mean, variance) = values.withUnsafeBufferPointer { batchNormStatistics($0.baseAddress!, rows: rows, channels: channels) }
      for ch in 0..<channels {
        let column = stride(from: ch, to: values.count, by: channels).map { Double(values[$0]) }
        let expectedMean = column.reduce(0, +) / Double(rows)
        let expectedVariance = column.reduce(0) { $0 + ($1 - expectedMean) * ($1 - expectedMean) } / Double(rows)
        XCTAssertEqual(Double(mean[ch]), expectedMean, accuracy: 1e-6 * max(1, abs(expectedMean)), "mean \(ch)")
        XCTAssertEqual(Double(variance[ch]), expectedVariance, accuracy: 1e-3 * expectedVariance, "variance \(ch)")
      }
    }
  }

  /// Statistics and β/γ gradients over millions of rows (a batch of 32 at 256×256) sum in
  /// Double: a Float running sum of 2²⁰ values of 0.1 (one worker's share here) ends 1% off
  /// (0.10099 as a mean; numpy's float32 cumsum gives the same), where blocks of 256 rows
  /// summed in Float and added in Double stay within 3·10⁻⁶.
  func testStatistics_overMillionsOfRows_keepFloatPrecision() throws {
    let rows = 1 << 21
    var values = [Float](repeating: 0.1, count: rows * 2)
    for r in 0..<rows { values[2 * r + 1] = r % 2 == 0 ? 3 : 5 }
    let expectedMean = Double(Float(0.1))
    let (mean, variance) = values.withUnsafeBufferPointer { batchNormStatistics($0.baseAddress!, rows: rows, channels: 2) }
    XCTAssertEqual(Double(mean[0]), expectedMean, accuracy: 1e-5 * expectedMean)
    XCTAssertEqual(Double(mean[1]), 4, accuracy: 1e-5 * 4)
    XCTAssertEqual(Double(variance[1]), 1, accuracy: 1e-5)
    var dGamma: [Float] = [0, 0], dBeta: [Float] = [0, 0]
    let gamma: [Float] = [1, 1]
    values.withUnsafeBufferPointer { x in
      gamma.withUnsafeBufferPointer { g in
        dGamma.withUnsafeMutableBufferPointer { dg in
          dBeta.withUnsafeMutableBufferPointer { db in
            batchNormBackward(x: x.baseAddress!, dY: x.baseAddress!, rows: rows, channels: 2, mean: mean, invStd: [1, 1],
                              gamma: g.baseAddress!, batchStatistics: false, dX: nil, dGamma: dg.baseAddress!, dBeta: db.baseAddress!)
          }
        }
      }
    }
    XCTAssertEqual(Double(dBeta[0]), expectedMean * Double(rows), accuracy: 1e-5 * expectedMean * Double(rows), "Σ dY")
    XCTAssertEqual(Double(dGamma[1]), Double(rows), accuracy: 1e-5 * Double(rows), "Σ dY · x̂ = Σ x (x − 4), 1 a row")
  }
}
