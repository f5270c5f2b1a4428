import Foundation

/// An image dataset as an adapter read it from disk: classes, labelled images, unlabelled
/// test images for a submission, and every file it skipped with the reason.
public struct Dataset: Sendable {
  /// One image file; `path` is relative to the dataset root.
  public struct Sample: Equatable, Hashable, Sendable, Codable {
    public var path: String
    /// Class index into ``Dataset/classNames``; nil for unlabelled test images.
    public var label: Int?
    /// The identifier a submission uses (`1234` for `test1/1234.jpg`); the path otherwise.
    public var id: String
    /// The group the image belongs to (a patient, a camera) when the dataset names one:
    /// grouped cross-validation keeps a group's images in one fold.
    public var group: String?

    public init(path: String, label: Int?, id: String? = nil, group: String? = nil) {
      (self.path, self.label, self.id, self.group) = (path, label, id ?? path, group)
    }
  }

  /// A file the adapter did not use, and why.
  public struct Skipped: Equatable, Sendable, Codable {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
      (self.path, self.reason) = (path, reason)
    }
  }

  public var adapter: String
  public var root: URL
  public var classNames: [String]
  /// Labelled images, in a stable order (sorted by path).
  public var samples: [Sample]
  /// Unlabelled images for predictions and submissions, sorted by id.
  public var unlabelled: [Sample]
  public var skipped: [Skipped]
  /// The split presets of the dataset's published protocol, by name.
  public var presets: [String: SplitSpec]

  /// Creates a dataset listing (adapters build these; tests and generators may too).
  public init(
    adapter: String, root: URL, classNames: [String], samples: [Sample], unlabelled: [Sample],
    skipped: [Skipped], presets: [String: SplitSpec]
  ) {
    (self.adapter, self.root, self.classNames, self.samples) = (adapter, root, classNames, samples)
    (self.unlabelled, self.skipped, self.presets) = (unlabelled, skipped, presets)
  }

  /// The absolute location of a sample.
  public func url(of sample: Sample) -> URL { root.appendingPathComponent(sample.path) }

  /// Number of labelled images per class, by class index.
  public var classCounts: [Int] {
    var counts = [Int](repeating: 0, count: classNames.count)
    for sample in samples { if let label = sample.label { counts[label] += 1 } }
    return counts
  }
}

/// A dataset that cannot be read as its adapter expects; one line naming the path.
public struct DatasetError: Error, CustomStringConvertible, Equatable {
  public var path: String
  public var reason: String

  public init(path: String, reason: String) {
    (self.path, self.reason) = (path, reason)
  }

  public var description: String { "\(path): \(reason)" }
}
