import Foundation

/// A competition's unlabelled test images: every image in its test folder or, with a sample
/// submission, exactly the images the sample's first column names, in the sample's order.
/// A sample id names an image by its file name (`0a1b.png`) or by its name without the
/// extension (`0a1b`), as real competitions do both; the id is kept as the sample spells it,
/// since that is what a submission must repeat.
enum CompetitionTestImages {
  /// The test images under `folder` (relative to the root) and the files passed over.
  ///
  /// - Throws: ``DatasetError`` for a folder outside the root or missing; ``CSVError`` naming
  ///   the line of a sample id that names no test image, or names one twice.
  static func load(root: URL, folder: String, sample: String?, adapter: DatasetAdapter) throws
    -> (unlabelled: [Dataset.Sample], skipped: [Dataset.Skipped])
  {
    let url = root.appendingPathComponent(folder)
    guard !folder.hasPrefix("/"), ImageFiles.outsideRoot(url, root) == nil else {
      throw DatasetError(path: "\(adapter.rawValue) option test_folder", reason: "\(folder) leaves the dataset root \(root.path); refused")
    }
    let (images, skipped) = try ImageFiles.scan(url, relativeTo: root)
    guard let sample else { return (ImageFiles.unlabelledSamples(images), skipped) }
    return try ordered(images, by: CSVDataset.competitionFile(sample, root: root), folder: folder, skipped: skipped)
  }

  /// The images the sample lists, in its order; the others are passed over with the reason.
  private static func ordered(_ images: [String], by file: URL, folder: String, skipped: [Dataset.Skipped]) throws
    -> (unlabelled: [Dataset.Sample], skipped: [Dataset.Skipped])
  {
    let table = try CSVTable(contentsOf: file)
    var byName: [String: String] = [:]
    for path in images {
      let name = (path as NSString).lastPathComponent
      byName[name] = path
      byName[(name as NSString).deletingPathExtension] = byName[(name as NSString).deletingPathExtension] ?? path
    }
    var unlabelled: [Dataset.Sample] = [], used = Set<String>()
    for row in table.rows {
      let id = row.fields[0].trimmingCharacters(in: .whitespaces)
      guard let path = byName[id] else {
        throw CSVError(path: file.path, line: row.line, reason: "id \"\(id)\" names no image in \(folder)/ (by file name, or by name without extension)")
      }
      guard used.insert(path).inserted else {
        throw CSVError(path: file.path, line: row.line, reason: "id \"\(id)\" names \(path) a second time")
      }
      unlabelled.append(Dataset.Sample(path: path, label: nil, id: id))
    }
    let unlisted = images.filter { !used.contains($0) }.map { Dataset.Skipped(path: $0, reason: "not listed in \(file.lastPathComponent)") }
    return (unlabelled, skipped + unlisted)
  }
}

extension CompetitionTestImages {
  /// The test images the options `test_folder` and `sample_submission` ask for (none when
  /// both are empty), added to `dataset`.
  ///
  /// - Throws: ``DatasetError`` for a sample without a test folder, and the errors of ``load(root:folder:sample:adapter:)``.
  static func add(to dataset: inout Dataset, options: [String: String], adapter: DatasetAdapter) throws {
    let (folder, sample) = (options["test_folder"] ?? "", options["sample_submission"] ?? "")
    guard !folder.isEmpty else {
      if !sample.isEmpty {
        throw DatasetError(path: "\(adapter.rawValue) option sample_submission", reason: "needs test_folder, the folder its ids name images in")
      }
      return
    }
    let tests = try load(root: dataset.root, folder: folder, sample: sample.isEmpty ? nil : sample, adapter: adapter)
    dataset.unlabelled = tests.unlabelled
    dataset.skipped += tests.skipped
  }
}
