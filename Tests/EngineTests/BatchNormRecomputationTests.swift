import Engine
import EngineTestSupport
import XCTest

/// Batch-norm statistics recomputed after weight averaging, against PyTorch's
/// `torch.optim.swa_utils.update_bn` (`scripts/reference/make_engine_fixtures.py`).
final class BatchNormRecomputationTests: XCTestCase {
  func testRecomputedStatistics_matchUpdateBn_overBatchesOfDifferentSizes() throws {
    let fixture = try Fixtures.load("update_bn")
    let network = Sequential([BatchNorm(channels: 3), Activation(.relu), BatchNorm(channels: 3)])
    let before = try fixture.object("before")
    try network.loadParameters(try before.mapValues { try Fixtures.tensor(from: $0) })
    let batches = try XCTUnwrap(fixture["batches"] as? [Any]).map { try Fixtures.tensor(from: $0) }
    let momenta = network.trainingBatchNorms.map(\.momentum)

    XCTAssertEqual(try network.recomputeBatchNormStatistics(over: batches), 3)

    let norms = network.trainingBatchNorms
    XCTAssertEqual(norms.count, 2)
    for (norm, index) in zip(norms, [0, 2]) {
      assertClose(norm.runningMean.value, try fixture.tensor("runningMean\(index)"), scaled: Tolerance.summation, "running mean \(index)")
      assertClose(norm.runningVariance.value, try fixture.tensor("runningVar\(index)"), scaled: Tolerance.summation, "running variance \(index)")
    }
    XCTAssertEqual(norms.map(\.momentum), momenta, "each layer's momentum is restored")
  }

  /// A batch norm in evaluation mode (a frozen trunk's) keeps its statistics; one in training
  /// mode ends with the plain mean over the batches, whatever it held before.
  func testBatchNormsInEvaluationMode_keepTheirStatistics() throws {
    let frozen = BatchNorm(channels: 2), trained = BatchNorm(channels: 2)
    let network = Sequential([frozen, trained])
    try frozen.runningMean.assign(Tensor(shape: [2], values: [0.25, -1]))
    try trained.runningMean.assign(Tensor(shape: [2], values: [7, 7]))
    frozen.setTraining(false)
    let batches = [Tensor(shape: [2, 2], values: [1, 2, 3, 4]), Tensor(shape: [3, 2], values: [0, 0, 3, 6, 6, 3])]

    try network.recomputeBatchNormStatistics(over: batches)

    XCTAssertEqual(frozen.runningMean.value.scalars, [0.25, -1])
    XCTAssertEqual(frozen.runningVariance.value.scalars, [1, 1])
    // Inputs reach the trained norm unchanged up to the frozen one's affine map: x − running mean.
    let shifted = batches.map { batch in batch.scalars.enumerated().map { $0.element - [0.25, -1][$0.offset % 2] } }
    let means = (0..<2).map { c in shifted.map { rows in mean(stride(from: c, to: rows.count, by: 2).map { rows[$0] }) }.reduce(0, +) / 2 }
    XCTAssertEqual(trained.runningMean.value.scalars[0], Float(means[0]), accuracy: 1e-4)
    XCTAssertEqual(trained.runningMean.value.scalars[1], Float(means[1]), accuracy: 1e-4)
  }

  private func mean(_ values: [Float]) -> Double { values.reduce(0) { $0 + Double($1) } / Double(values.count) }
}
