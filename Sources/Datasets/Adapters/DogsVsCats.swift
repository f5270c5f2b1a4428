import Foundation

/// Kaggle's Dogs vs. Cats (2013) and its Redux edition (2016): `train/cat.N.jpg`,
/// `train/dog.N.jpg` (label from the file name; class 1 is dog, as the submissions count),
/// and unlabelled `test1/N.jpg` (original) or `test/N.jpg` (Redux), whose `N` is the
/// submission id. Re-downloads that nest one more level (`train/train/…`) are accepted.
enum DogsVsCats {
  static func load(_ root: URL) throws -> Dataset {
    guard let trainFolder = folder(["train"], in: root) else {
      throw DatasetError(path: root.path, reason: "no train/ folder with cat.N.jpg and dog.N.jpg")
    }
    var (images, skipped) = try ImageFiles.scan(trainFolder, relativeTo: root)
    var samples: [Dataset.Sample] = []
    for path in images {
      let name = (path as NSString).lastPathComponent.lowercased()
      if name.hasPrefix("cat.") { samples.append(.init(path: path, label: 0)) }
      else if name.hasPrefix("dog.") { samples.append(.init(path: path, label: 1)) }
      else { skipped.append(.init(path: path, reason: "name starts with neither cat. nor dog.")) }
    }
    var unlabelled: [Dataset.Sample] = []
    if let testFolder = folder(["test1", "test"], in: root) {
      let (tests, rejected) = try ImageFiles.scan(testFolder, relativeTo: root)
      skipped += rejected
      unlabelled = ImageFiles.unlabelledSamples(tests)
    }
    return Dataset(adapter: DatasetAdapter.dogsVsCats.rawValue, root: root, classNames: ["cat", "dog"], samples: samples,
                   unlabelled: unlabelled, skipped: skipped,
                   presets: ["kaggle2000": .perClass(train: 1000, validation: 400, test: 0),
                             "default": .fractions(train: 0.8, validation: 0.1, test: 0.1)])
  }

  /// The first of `names` that exists under `root`, descending into a same-named
  /// sub-folder when the download nests one (`test1/test1/`).
  private static func folder(_ names: [String], in root: URL) -> URL? {
    for name in names {
      let url = root.appendingPathComponent(name)
      var isFolder: ObjCBool = false
      guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), isFolder.boolValue else { continue }
      let nested = url.appendingPathComponent(name)
      return FileManager.default.fileExists(atPath: nested.path, isDirectory: &isFolder) && isFolder.boolValue ? nested : url
    }
    return nil
  }
}
