import Engine
import Foundation
import Imaging

/// Decoded, resized images kept between epochs: in memory while they fit the budget, then
/// on disk (raw RGB files named by a hash of the source path, its size and modification
/// time, and the stored size), so later epochs decode nothing.
public final class ImageCache: @unchecked Sendable {
  private var memory: [String: Image] = [:]
  private var memoryBytes = 0
  private let budget: Int
  private let folder: URL?
  private let lock = NSLock()

  /// A cache holding up to `memoryBudget` bytes of pixels in memory, and the rest in
  /// `diskFolder` when given.
  public init(memoryBudget: Int = 2 << 30, diskFolder: URL? = nil) {
    budget = memoryBudget
    folder = diskFolder
    if let diskFolder { try? FileManager.default.createDirectory(at: diskFolder, withIntermediateDirectories: true) }
  }

  /// The image stored under `key`, if any.
  func image(_ key: String) -> Image? {
    lock.lock()
    let cached = memory[key]
    lock.unlock()
    if let cached { return cached }
    guard let url = diskURL(key), let data = try? FileContents.data(of: url), data.count >= 8 else { return nil }
    let width = Int(data[0]) << 24 | Int(data[1]) << 16 | Int(data[2]) << 8 | Int(data[3])
    let height = Int(data[4]) << 24 | Int(data[5]) << 16 | Int(data[6]) << 8 | Int(data[7])
    guard data.count == 8 + width * height * 3 else { return nil }
    return Image(width: width, height: height, pixels: [UInt8](data.dropFirst(8)))
  }

  /// Stores `image` under `key`: in memory while the budget allows, else on disk.
  func store(_ image: Image, _ key: String) {
    lock.lock()
    let fits = memoryBytes + image.pixels.count <= budget
    if fits {
      memory[key] = image
      memoryBytes += image.pixels.count
    }
    lock.unlock()
    guard !fits, let url = diskURL(key) else { return }
    var header = Data()
    for value in [image.width, image.height] { header += [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) } }
    let temporary = url.appendingPathExtension("tmp\(UInt32.random(in: 0...UInt32.max))")
    if (try? (header + Data(image.pixels)).write(to: temporary)) != nil { rename(temporary.path, url.path) }
  }

  /// The key of a source file at a stored size: its path, size and modification time.
  static func key(for url: URL, variant: String) -> String {
    let attributes = try? FileManager.default.attributesOfItem(atPath: url.path)
    let size = attributes?[.size] as? Int ?? 0
    let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
    return SHA256Digest.hex(of: "\(url.path)|\(size)|\(modified)|\(variant)")
  }

  private func diskURL(_ key: String) -> URL? {
    folder?.appendingPathComponent(key + ".rgb")
  }
}
