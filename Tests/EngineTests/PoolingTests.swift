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

  func testGlobalAvgPool_averagesEachChannel() throws {
    let input = Tensor(shape: [1, 2, 2, 2], values: [1, 10, 2, 20, 3, 30, 4, 40])
    XCTAssertEqual(try GlobalAvgPool()(input).scalars, [2.5, 25])
  }
}
