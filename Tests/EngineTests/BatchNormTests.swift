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
}
