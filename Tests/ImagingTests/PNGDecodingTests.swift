import Foundation
import Imaging
import XCTest

/// PNGs of every colour type and depth decode to the RGB bytes PyTorch users get from
/// PIL's `convert("RGB")` (fixtures from scripts/reference/make_png_fixtures.py): grey and
/// palette expanded, alpha dropped (not composited), 16-bit reduced to its high byte.
final class PNGDecodingTests: XCTestCase {
  private let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/png")

  func testEveryColourTypeAndDepth_decodesLikePIL() throws {
    let expected = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("expected.json"))) as? [String: [String: Any]])
    XCTAssertEqual(expected.keys.sorted(), ["grey16", "grey8", "grey_alpha", "palette", "rgb16", "rgb8", "rgba"])
    for (name, reference) in expected.sorted(by: { $0.key < $1.key }) {
      let image = try ImageDecoder.decode(contentsOf: folder.appendingPathComponent("\(name).png"))
      XCTAssertEqual([image.width, image.height], [reference["width"] as? Int, reference["height"] as? Int], name)
      let rgb = try XCTUnwrap(reference["rgb"] as? [Int]).map(UInt8.init)
      XCTAssertEqual(image.pixels, rgb, name)
    }
  }
}
