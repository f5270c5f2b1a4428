import Backbones
import Datasets
import Engine
import Foundation
@testable import Training
import XCTest

/// The feature cache is keyed by the weights file's real SHA-256, never by the prefix its
/// name claims: another file under an official name gets its own features.
final class WeightsDigestTests: XCTestCase {
  func testTheDigest_isTheFilesOwn_notTheOneInItsName() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-digest-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = folder.appendingPathComponent("efficientnet-lite0-57934424.pth")
    try Data("not the official weights".utf8).write(to: file)
    let dataset = Dataset(adapter: "image-folder", root: folder, classNames: ["a", "b"], samples: [], unlabelled: [], skipped: [],
                          presets: [:])
    let run = TrainingRun(spec: RunSpec(backbone: .efficientNetLite0, strategy: .features), dataset: dataset,
                          split: try Split(dataset, spec: .fractions(train: 0.5, validation: 0.5, test: 0), seed: 0),
                          weights: WeightLocator(explicitFile: file))
    XCTAssertEqual(try run.weightsDigest(), SHA256Digest.hex(of: "not the official weights"))
    // Rewritten in place (another size): hashed again, not served from memory.
    try Data("other weights, longer".utf8).write(to: file)
    XCTAssertEqual(try run.weightsDigest(), SHA256Digest.hex(of: "other weights, longer"))
  }
}
