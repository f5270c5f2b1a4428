import Engine
import Foundation
import Imaging

/// What `podium datasets inspect` reports: classes with counts, image sizes, every file
/// that was skipped or does not decode (with the reason), exact duplicates by content, and
/// the split presets.
public struct DatasetInspection: Encodable, Sendable {
  public struct ClassCount: Encodable, Equatable, Sendable {
    public var name: String
    public var count: Int
  }

  /// Width and height summaries of the decodable images.
  public struct Sizes: Encodable, Equatable, Sendable {
    public var minWidth = 0, maxWidth = 0, medianWidth = 0
    public var minHeight = 0, maxHeight = 0, medianHeight = 0
  }

  public var adapter: String
  public var root: String
  /// Decodable labelled and unlabelled images.
  public var images: Int
  public var unlabelled: Int
  public var classes: [ClassCount]
  public var skipped: [Dataset.Skipped]
  /// Groups of paths with identical content (SHA-256), each sorted.
  public var duplicates: [[String]]
  public var sizes: Sizes
  public var presets: [String]

  /// Reads every image of `dataset` (JPEGs at 1/8 scale, which still checks the whole
  /// file), hashing each, in parallel.
  public init(_ dataset: Dataset) {
    let all = dataset.samples + dataset.unlabelled
    let results = Self.examine(all.map { dataset.url(of: $0) })
    var broken: [Dataset.Skipped] = [], sizes: [(Int, Int)] = [], byHash: [String: [String]] = [:]
    var counts = [Int](repeating: 0, count: dataset.classNames.count)
    var decodable = 0
    for (sample, result) in zip(all, results) {
      switch result {
      case .failure(let failure): broken.append(.init(path: sample.path, reason: failure.reason))
      case .success(let (width, height, hash)):
        decodable += 1
        sizes.append((width, height))
        byHash[hash, default: []].append(sample.path)
        if let label = sample.label { counts[label] += 1 }
      }
    }
    adapter = dataset.adapter
    root = dataset.root.path
    images = decodable
    unlabelled = dataset.unlabelled.count
    classes = zip(dataset.classNames, counts).map { ClassCount(name: $0, count: $1) }
    skipped = (dataset.skipped + broken).sorted { $0.path < $1.path }
    duplicates = byHash.values.filter { $0.count > 1 }.map { $0.sorted() }.sorted { $0[0] < $1[0] }
    self.sizes = Self.summarise(sizes)
    presets = dataset.presets.keys.sorted()
  }

  private static func examine(_ urls: [URL]) -> [Result<(Int, Int, String), InspectionFailure>] {
    final class Slots: @unchecked Sendable {  // each worker writes its own indices
      var values: [Result<(Int, Int, String), InspectionFailure>]
      init(_ count: Int) { values = Array(repeating: .failure(InspectionFailure(reason: "not examined")), count: count) }
    }
    let slots = Slots(urls.count)
    Parallel.forEachRange(urls.count) { range in
      for index in range { slots.values[index] = examine(urls[index]) }
    }
    return slots.values
  }

  private static func examine(_ url: URL) -> Result<(Int, Int, String), InspectionFailure> {
    guard let data = try? FileContents.data(of: url) else { return .failure(InspectionFailure(reason: "unreadable")) }
    do {
      let bytes = [UInt8](data)
      let decoded = try ImageDecoder.decode(bytes, path: url.path, scaleDenominator: 8)
      let size = ImageDecoder.dimensions(of: bytes) ?? (decoded.width, decoded.height)
      return .success((size.width, size.height, bytes.withUnsafeBytes { SHA256Digest.hex(of: $0) }))
    } catch let error as DecodeError {
      return .failure(InspectionFailure(reason: error.detail))
    } catch {
      return .failure(InspectionFailure(reason: "\(error)"))
    }
  }

  private static func summarise(_ sizes: [(Int, Int)]) -> Sizes {
    guard !sizes.isEmpty else { return Sizes() }
    let widths = sizes.map(\.0).sorted(), heights = sizes.map(\.1).sorted()
    return Sizes(minWidth: widths.first!, maxWidth: widths.last!, medianWidth: widths[widths.count / 2],
                 minHeight: heights.first!, maxHeight: heights.last!, medianHeight: heights[heights.count / 2])
  }
}

private struct InspectionFailure: Error {
  var reason: String
}
