import Backbones
import Datasets
import Engine
import Foundation
import Imaging
import Training
import XCTest

final class FeatureCacheTests: XCTestCase {
  /// An image rewritten under the same name (a regenerated dataset) is never served the old
  /// image's features: the cache key holds each file's size and modification time.
  func testARewrittenImage_isExtractedAgain() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-cache-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    try DemoDataset(imagesPerClass: 1, testImagesPerClass: 1, size: 32).write(to: folder)
    let dataset = try DatasetAdapter.naturalImages.load(root: folder)
    var preprocessing = BackboneName.smallCNN.preprocessing
    preprocessing.inputSize = 32
    let makeBackbone = { () throws -> Backbone in
      var rng = SeededGenerator(seed: 1)
      return Backbone(.smallCNN, architecture: SmallCNN.make(inputSize: 32, classes: 8, rng: &rng), preprocessing: preprocessing)
    }
    let cache = FeatureCache(folder: folder.appendingPathComponent("features"))
    func features() throws -> [Float] {
      try cache.features(of: dataset.unlabelled, in: dataset, backbone: .smallCNN, preprocessing: preprocessing, weightsDigest: "none",
                         batchSize: 8, makeBackbone: makeBackbone).features.scalars
    }
    let first = try features()
    XCTAssertEqual(cache.extractedImages, 8)
    XCTAssertEqual(try features(), first, "a hit")
    XCTAssertEqual(cache.extractedImages, 8)
    let rewritten = Image(width: 32, height: 32, pixels: [UInt8](repeating: 250, count: 32 * 32 * 3))
    try ImageEncoder.encode(rewritten, asPNG: false).write(to: dataset.url(of: dataset.unlabelled[0]))
    let again = try features()
    XCTAssertEqual(cache.extractedImages, 16, "the changed file invalidates the entry")
    XCTAssertNotEqual(Array(again.prefix(64)), Array(first.prefix(64)))

    // Bottleneck activations of a stage are another entry: after block2 (conv, ReLU,
    // pool) a 32² input is 6 × 6 × 32.
    let bottleneck = try cache.features(of: dataset.unlabelled, in: dataset, backbone: .smallCNN, stage: "block2", preprocessing: preprocessing,
                                        weightsDigest: "none", batchSize: 8, makeBackbone: makeBackbone).features
    XCTAssertEqual(bottleneck.shape, [8, 6 * 6 * 32])
    XCTAssertEqual(cache.extractedImages, 24)

    // Two augmented copies: their rows follow the plain ones, differ from them, and are
    // cached under their own key.
    let copies = AugmentedCopies(count: 2, augmentation: Augmentation.presets["strong"]!, name: "strong", seed: 5)
    func augmented() throws -> (features: Tensor, labels: [Int], samples: [Dataset.Sample]) {
      try cache.features(of: dataset.unlabelled, in: dataset, backbone: .smallCNN, preprocessing: preprocessing, weightsDigest: "none",
                         copies: copies, batchSize: 8, makeBackbone: makeBackbone)
    }
    let withCopies = try augmented()
    XCTAssertEqual(withCopies.features.shape, [24, 64])
    XCTAssertEqual(withCopies.samples.map(\.path), Array(repeating: dataset.unlabelled.map(\.path), count: 3).flatMap { $0 })
    XCTAssertEqual(Array(withCopies.features.scalars.prefix(8 * 64)), again)
    XCTAssertNotEqual(Array(withCopies.features.scalars[(8 * 64)..<(16 * 64)]), again)
    XCTAssertNotEqual(Array(withCopies.features.scalars[(8 * 64)..<(16 * 64)]), Array(withCopies.features.scalars[(16 * 64)...]))
    XCTAssertEqual(cache.extractedImages, 48)
    XCTAssertEqual(try augmented().features.scalars, withCopies.features.scalars)
    XCTAssertEqual(cache.extractedImages, 48, "a hit")
  }
}
