import Engine
import XCTest

/// Shapes are validated where a tensor enters a module; the error names both shapes.
final class ShapeErrorTests: XCTestCase {
  func testConv2D_wrongChannelCount_namesBothShapes() {
    var rng = SeededGenerator(seed: 0)
    let conv = Conv2D(inChannels: 3, outChannels: 8, kernel: 3, rng: &rng)
    XCTAssertThrowsError(try conv(Tensor(shape: [1, 8, 8, 4]))) { error in
      XCTAssertEqual("\(error)", "Conv2D input: expected [N, H, W, 3], got [1, 8, 8, 4]")
    }
  }

  func testConv2D_inputSmallerThanKernel_isAnError() {
    var rng = SeededGenerator(seed: 0)
    let conv = Conv2D(inChannels: 1, outChannels: 1, kernel: 5, rng: &rng)
    XCTAssertThrowsError(try conv(Tensor(shape: [1, 3, 3, 1]))) { error in
      XCTAssertTrue("\(error)".contains("got [1, 3, 3, 1]"), "\(error)")
    }
  }

  func testSequential_prefixesTheFailingChildsName() {
    var rng = SeededGenerator(seed: 0)
    let model = Sequential(named: [
      ("features", Conv2D(inChannels: 3, outChannels: 4, kernel: 1, rng: &rng)),
      ("flatten", Flatten()),
      ("classifier", Linear(inFeatures: 10, outFeatures: 2, rng: &rng)),
    ])
    XCTAssertThrowsError(try model(Tensor(shape: [2, 2, 2, 3]))) { error in
      XCTAssertEqual("\(error)", "classifier: Linear input: expected [N, 10], got [2, 16]")
    }
  }

  func testLoadingAParameterOfTheWrongShape_namesParameterAndShapes() {
    var rng = SeededGenerator(seed: 0)
    let model = Sequential([Conv2D(inChannels: 3, outChannels: 64, kernel: 3, rng: &rng)])
    XCTAssertThrowsError(try model.loadParameters(["0.weight": Tensor(shape: [64, 3, 3, 3])], requireAll: false)) { error in
      XCTAssertEqual(error as? ShapeError, ShapeError(context: "0.weight", expected: [3, 3, 3, 64], actual: [64, 3, 3, 3]))
      XCTAssertEqual("\(error)", "0.weight: expected [3, 3, 3, 64], got [64, 3, 3, 3]")
    }
  }

  func testLoadingUnknownOrMissingParameters_isAnError() {
    var rng = SeededGenerator(seed: 0)
    let model = Sequential([Linear(inFeatures: 2, outFeatures: 2, rng: &rng)])
    XCTAssertThrowsError(try model.loadParameters(["0.wieght": Tensor(shape: [2, 2])])) {
      XCTAssertEqual($0 as? ParameterLoadError, .unexpected("0.wieght"))
    }
    XCTAssertThrowsError(try model.loadParameters(["0.weight": Tensor(shape: [2, 2])])) {
      XCTAssertEqual($0 as? ParameterLoadError, .missing("0.bias"))
    }
  }

  func testResidual_bodyAndShortcutShapesMustAgree() {
    var rng = SeededGenerator(seed: 0)
    let block = Residual(body: Conv2D(inChannels: 2, outChannels: 4, kernel: 1, rng: &rng))
    XCTAssertThrowsError(try block(Tensor(shape: [1, 3, 3, 2]))) { error in
      XCTAssertEqual("\(error)", "Residual sum (body vs shortcut): expected [1, 3, 3, 4], got [1, 3, 3, 2]")
    }
  }

  func testBatchNormAndPooling_rejectWrongInputs() {
    XCTAssertThrowsError(try BatchNorm(channels: 4)(Tensor(shape: [2, 3]))) {
      XCTAssertEqual("\($0)", "BatchNorm input: expected [N, ..., 4], got [2, 3]")
    }
    XCTAssertThrowsError(try MaxPool2D(kernel: 2)(Tensor(shape: [4, 4]))) {
      XCTAssertEqual("\($0)", "MaxPool2D input: expected [N, H, W, C], got [4, 4]")
    }
  }
}
