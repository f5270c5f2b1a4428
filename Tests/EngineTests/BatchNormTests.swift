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
    let features = BatchNorm(channels: 5)  // BatchNorm1d on [N, C]
    try checkGradients(of: features, input: Tensor.randomUniform(shape: [6, 5], bound: 1, rng: &rng))
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
