import Dispatch
import Engine
import Foundation
import Imaging

/// Times the input pipeline alone: what `podium bench --mode data` prints. It writes
/// `imageCount` photo-sized JPEGs (500×375, the size of a typical Dogs vs Cats image) to a
/// temporary folder, then loads them in batches with a backbone's preprocessing and the
/// `light` augmentation (flip + random-resized crop) and no cache, so every image is
/// decoded, resized and augmented every time.
public struct DataBenchmark {
  public struct Result: Encodable, Equatable {
    public var mode = "data"
    public var backbone: String
    public var batch: Int
    public var imagesPerSecond: Double

    enum CodingKeys: String, CodingKey {
      case mode, backbone, batch
      case imagesPerSecond = "images_per_second"
    }
  }

  /// The backbone whose preprocessing is timed, as the result names it.
  public var backbone: String
  public var preprocessing: Preprocessing
  public var batch: Int
  public var imageCount: Int

  public init(backbone: String, preprocessing: Preprocessing, batch: Int = 32, imageCount: Int = 128) {
    (self.backbone, self.preprocessing, self.batch, self.imageCount) = (backbone, preprocessing, batch, imageCount)
  }

  public func run() throws -> Result {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-data-bench-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    try SyntheticPhotos.write(count: imageCount, to: folder)
    let dataset = try DatasetAdapter.imageFolder.load(root: folder)
    let loader = BatchLoader(dataset: dataset, samples: dataset.samples, batchSize: batch,
                             preprocessing: preprocessing, augmentation: .light, seed: 1, cache: nil)
    _ = loader.makeBatch(Array(0..<min(batch, dataset.samples.count)), epoch: 0)  // warm-up
    let start = DispatchTime.now().uptimeNanoseconds
    var images = 0
    for batch in loader.epoch(1, shuffle: true) { images += batch.samples.count }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    return Result(backbone: backbone, batch: batch, imagesPerSecond: Double(images) / seconds)
  }
}

/// Photo-sized JPEGs for benchmarks: 500×375 (a typical Dogs vs Cats image), smooth
/// gradients with rings, quality 90, alternating between two class folders.
public enum SyntheticPhotos {
  /// Writes `count` images under `folder` in the image-folder layout.
  public static func write(count: Int, to folder: URL) throws {
    var rng = SeededGenerator(seed: 3)
    for index in 0..<count {
      let (width, height) = (500, 375)
      let tint = (0..<3).map { _ in Int(rng.next() % 128) }
      var pixels = [UInt8](repeating: 0, count: width * height * 3)
      for y in 0..<height {
        for x in 0..<width {
          let ring = ((x - 250) * (x - 250) + (y - 187) * (y - 187)) / 900 % 2 == 0 ? 60 : 0
          for c in 0..<3 { pixels[(y * width + x) * 3 + c] = UInt8(clamping: tint[c] + (x + c * y) % 128 + ring) }
        }
      }
      let classFolder = folder.appendingPathComponent("class\(index % 2)")
      try FileManager.default.createDirectory(at: classFolder, withIntermediateDirectories: true)
      try ImageEncoder.jpeg(pixels, width: width, height: height).write(to: classFolder.appendingPathComponent("\(index).jpg"))
    }
  }
}
