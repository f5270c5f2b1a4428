import Foundation

/// The Flickr 8-class image-tagging competition: a labels CSV `id,label` with labels 1–8
/// (structures, indoor, people, animals, plant life, food, car, sea), an images folder
/// whose files are named by id, and an unlabelled test folder for the submission.
enum Flickr8 {
  static let classNames = ["structures", "indoor", "people", "animals", "plant life", "food", "car", "sea"]

  static func load(_ root: URL, options: [String: String]) throws -> Dataset {
    let labelsFile = root.appendingPathComponent(options["labels"]!)
    let table = try CSVTable(contentsOf: labelsFile)
    let (idColumn, labelColumn) = (try table.column("id", in: labelsFile.path), try table.column("label", in: labelsFile.path))
    let imagesFolder = root.appendingPathComponent(options["images"]!)
    let (images, skippedImages) = try ImageFiles.scan(imagesFolder, relativeTo: root)
    var byID: [String: String] = [:]
    for path in images { byID[stem(path)] = path }
    var samples: [Dataset.Sample] = [], skipped = skippedImages, listed = Set<String>()
    for row in table.rows {
      let id = row.fields[idColumn].trimmingCharacters(in: .whitespaces)
      guard let label = Int(row.fields[labelColumn].trimmingCharacters(in: .whitespaces)), (1...8).contains(label) else {
        throw CSVError(path: labelsFile.path, line: row.line, reason: "label \"\(row.fields[labelColumn])\" is not one of 1-8")
      }
      guard let path = byID[id] else {
        skipped.append(.init(path: "\(options["labels"]!) line \(row.line)", reason: "id \(id) has no image in \(options["images"]!)/"))
        continue
      }
      samples.append(.init(path: path, label: label - 1, id: id))
      listed.insert(id)
    }
    for (id, path) in byID where !listed.contains(id) {
      skipped.append(.init(path: path, reason: "not listed in \(options["labels"]!)"))
    }
    var unlabelled: [Dataset.Sample] = []
    let testFolder = root.appendingPathComponent(options["test"]!)
    if FileManager.default.fileExists(atPath: testFolder.path) {
      let (tests, rejected) = try ImageFiles.scan(testFolder, relativeTo: root)
      unlabelled = ImageFiles.unlabelledSamples(tests)
      skipped += rejected
    }
    return Dataset(adapter: DatasetAdapter.flickr8.rawValue, root: root, classNames: classNames,
                   samples: samples.sorted { $0.path < $1.path }, unlabelled: unlabelled,
                   skipped: skipped.sorted { $0.path < $1.path },
                   presets: ["default": .fractions(train: 0.7, validation: 0.15, test: 0.15)])
  }

  private static func stem(_ path: String) -> String {
    ((path as NSString).lastPathComponent as NSString).deletingPathExtension
  }
}
