import Engine
import EngineTestSupport
import XCTest

final class PoolingTests: XCTestCase {
  func testPooling_matchesPyTorchForwardAndGradients() throws {
    let cases = try Fixtures.load("pooling")
    try withEvery("case", in: cases.keys.sorted()) { name in
      let fixture = try cases.object(name)
      let (k, s, p) = (Int(try fixture.number("kernel")), Int(try fixture.number("stride")), Int(try fixture.number("padding")))
      let layer: any Layer = (fixture["kind"] as? String) == "max"
        ? MaxPool2D(kernel: k, stride: s, padding: .symmetric(p))
        : AvgPool2D(kernel: k, stride: s, padding: .symmetric(p))
      try assertMatchesFixture(layer, fixture, gradients: [], name)
      // A forward that records nothing (the max without its indices) gives the same output.
      let lean = try GradientRecording.withoutGradients { try layer(try fixture.tensor("input")) }
      assertClose(lean, try fixture.tensor("output"), scaled: Tolerance.summation, "\(name) output, nothing recorded")
    }
  }

  func testPooling_gradientsMatchFiniteDifferences() throws {
    let input = kinkFreeInput(shape: [2, 6, 5, 3], seed: 4)
    try checkGradients(of: MaxPool2D(kernel: 3, stride: 2, padding: .symmetric(1)), input: input)
    try checkGradients(of: MaxPool2D(kernel: 2), input: input)
    try checkGradients(of: AvgPool2D(kernel: 3, stride: 1, padding: .symmetric(1)), input: input)
    try checkGradients(of: AvgPool2D(kernel: 2, countIncludesPadding: false), input: input)
    try checkGradients(of: GlobalAvgPool(), input: input)
  }

  /// Adaptive pooling with overlapping cells (7 rows into 3: cells of 3, 3 and 3 rows that
  /// share rows), cells smaller than one row (5 columns into 7), and exact division.
  func testAdaptiveAvgPool_gradientsMatchFiniteDifferences() throws {
    let input = kinkFreeInput(shape: [2, 7, 5, 3], seed: 6)
    try withEvery("output", in: [(3, 7), (1, 1), (7, 5), (2, 4)]) { size in
      try checkGradients(of: AdaptiveAvgPool2D(outputSize: (size.0, size.1)), input: input)
    }
  }

  /// Cell bounds as torch.nn.AdaptiveAvgPool2d takes them: 4 rows into 3 cells are rows
  /// 0..<2, 1..<3 and 2..<4.
  func testAdaptiveAvgPool_cellsOverlapAsPyTorch() throws {
    let input = Tensor(shape: [1, 4, 1, 1], values: [1, 2, 4, 8])
    XCTAssertEqual(try AdaptiveAvgPool2D(outputSize: (3, 1))(input).scalars, [1.5, 3, 6])
  }

  func testGlobalAvgPool_averagesEachChannel() throws {
    let input = Tensor(shape: [1, 2, 2, 2], values: [1, 10, 2, 20, 3, 30, 4, 40])
    XCTAssertEqual(try GlobalAvgPool()(input).scalars, [2.5, 25])
  }
}
