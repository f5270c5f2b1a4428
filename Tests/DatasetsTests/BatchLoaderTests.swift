import Backbones
import DatasetTestSupport
import Datasets
import Engine
import Foundation
import Imaging
import XCTest

final class BatchLoaderTests: XCTestCase {
  private var fixtures: DatasetFixtures!
  private let small = Preprocessing(inputSize: 16, crop: .resizeThenCenterCrop(resize: 18), mean: [127, 127, 127], std: [128, 128, 128])

  override func setUpWithError() throws { fixtures = try DatasetFixtures() }
  override func tearDown() { fixtures.remove() }

  func testEpoch_batchesEveryImageAndReportsTheBrokenOne() throws {
    let dataset = try DatasetAdapter.naturalImages.load(root: try fixtures.naturalImages())
    let loader = BatchLoader(dataset: dataset, samples: dataset.samples, batchSize: 4, preprocessing: small)
    let batches: [Batch] = Array(loader.epoch(0, shuffle: true))
    XCTAssertEqual(batches.count, loader.batchCount)
    XCTAssertEqual(batches.map(\.samples.count).reduce(0, +), 10)
    XCTAssertEqual(batches.flatMap(\.failures).map(\.path), ["natural_images/cat/cat_0099.jpg"])
    for batch in batches {
      XCTAssertEqual(batch.images.shape, [batch.samples.count, 16, 16, 3])
      XCTAssertEqual(batch.labels, batch.samples.map { $0.label! })
      XCTAssertTrue(batch.images.scalars.allSatisfy { abs($0) <= 1.0 }, "normalised with mean 127, std 128")
    }
  }

  func testSameSeed_sameBatches_evenWithAugmentation() throws {
    let dataset = try DatasetAdapter.naturalImages.load(root: try fixtures.naturalImages())
    func run(_ seed: UInt64) -> [Tensor] {
      let loader = BatchLoader(dataset: dataset, samples: dataset.samples, batchSize: 3, preprocessing: small,
                               augmentation: .strong, seed: seed, cache: nil)
      return loader.epoch(1, shuffle: true).map { (batch: Batch) in batch.images }
    }
    XCTAssertEqual(run(4), run(4))
    XCTAssertNotEqual(run(4), run(5))
  }

  /// After one epoch, the cache alone serves the images: deleting the files changes nothing.
  func testCachedEpochs_decodeNothing() throws {
    let root = try fixtures.dogsVsCats()
    let dataset = try DatasetAdapter.dogsVsCats.load(root: root)
    let disk = fixtures.root.appendingPathComponent("cache")
    for cache in [ImageCache(), ImageCache(memoryBudget: 0, diskFolder: disk)] {
      let loader = BatchLoader(dataset: dataset, samples: dataset.samples, batchSize: 4, preprocessing: small, cache: cache)
      let first = loader.epoch(0, shuffle: false).map { (batch: Batch) in batch.images }
      let backup = fixtures.root.appendingPathComponent("train-backup")
      try FileManager.default.moveItem(at: root.appendingPathComponent("train"), to: backup)
      let second = loader.epoch(1, shuffle: false).map { (batch: Batch) in batch.images }
      try FileManager.default.moveItem(at: backup, to: root.appendingPathComponent("train"))
      XCTAssertEqual(first, second)
    }
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: disk.path).filter { $0.hasSuffix(".rgb") }.count, 7)
  }

  func testStoppingEarly_doesNotHang() throws {
    let dataset = try DatasetAdapter.naturalImages.load(root: try fixtures.naturalImages())
    let loader = BatchLoader(dataset: dataset, samples: dataset.samples + dataset.samples, batchSize: 2, preprocessing: small)
    loader.prefetch = 1
    for batch in loader.epoch(0, shuffle: false) {
      XCTAssertFalse(batch.samples.isEmpty)
      break
    }
  }
}

final class DataBenchmarkTests: XCTestCase {
  func testDataBenchmark_loadsEveryGeneratedPhoto() throws {
    let result = try DataBenchmark(backbone: "resnet18", preprocessing: .torchvisionImageNet, batch: 2, imageCount: 4).run()
    XCTAssertEqual(result.mode, "data")
    XCTAssertGreaterThan(result.imagesPerSecond, 0)
  }
}
