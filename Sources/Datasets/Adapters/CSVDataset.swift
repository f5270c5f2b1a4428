import Foundation

/// Any competition whose labels come as a CSV: a path column (relative to the root, or an id
/// that `path_template` turns into a path, as `train_images/{id}.png`) and a label column,
/// named by the user. Classes are the distinct labels, sorted. A path that leaves the root
/// (`../../etc/passwd`, an absolute path, a symbolic link out) is refused. Unlabelled test
/// images come from `test_folder`, chosen and ordered by `sample_submission` when given.
enum CSVDataset {
  static func load(_ root: URL, options: [String: String], groupColumn: String? = nil) throws -> Dataset {
    let file = competitionFile(options["file"]!, root: root)
    let template = options["path_template"]!
    guard template.isEmpty || template.contains("{id}") else {
      throw DatasetError(path: "csv option path_template", reason: "\"\(template)\" has no {id} for the path column's value")
    }
    let table = try CSVTable(contentsOf: file)
    let pathColumn = try table.column(options["path_column"]!, in: file.path)
    let labelColumn = try table.column(options["label_column"]!, in: file.path)
    let groupIndex = try groupColumn.map { try table.column($0, in: file.path) }
    let classNames = Set(table.rows.map { $0.fields[labelColumn] }).sorted()
    let classIndex = Dictionary(uniqueKeysWithValues: classNames.enumerated().map { ($1, $0) })
    var samples: [Dataset.Sample] = [], skipped: [Dataset.Skipped] = []
    for row in table.rows {
      let value = row.fields[pathColumn]
      let relative = try containedPath(template.isEmpty ? value : template.replacingOccurrences(of: "{id}", with: value), in: root,
                                       file: file.path, line: row.line)
      if let reason = ImageFiles.unusableReason(root.appendingPathComponent(relative)) {
        skipped.append(.init(path: relative, reason: FileManager.default.fileExists(atPath: root.appendingPathComponent(relative).path)
          ? reason : "listed on line \(row.line) but missing"))
      } else {
        samples.append(.init(path: relative, label: classIndex[row.fields[labelColumn]], group: groupIndex.map { row.fields[$0] }.flatMap { $0.isEmpty ? nil : $0 }))
      }
    }
    var dataset = Dataset(adapter: DatasetAdapter.csv.rawValue, root: root, classNames: classNames,
                          samples: samples.sorted { $0.path < $1.path }, unlabelled: [], skipped: skipped,
                          presets: ["default": .fractions(train: 0.7, validation: 0.15, test: 0.15)])
    try CompetitionTestImages.add(to: &dataset, options: options, adapter: .csv)
    return dataset
  }

  /// A competition's CSV (labels, sample submission) named `name`: an absolute path as it
  /// is; a relative one under the root, or else relative to the working folder (as Kaggle
  /// ships `train.csv` beside its image folder). When neither exists, the path under the
  /// root, for the error to name.
  static func competitionFile(_ name: String, root: URL) -> URL {
    if name.hasPrefix("/") { return URL(fileURLWithPath: name) }
    let underRoot = root.appendingPathComponent(name)
    let fromWorkingFolder = URL(fileURLWithPath: name)
    let exists = { (url: URL) in FileManager.default.fileExists(atPath: url.path) }
    return !exists(underRoot) && exists(fromWorkingFolder) ? fromWorkingFolder : underRoot
  }

  /// `path` relative to `root`, after resolving `..` and symbolic links.
  ///
  /// - Throws: ``CSVError`` naming the line when the path leaves the root.
  static func containedPath(_ path: String, in root: URL, file: String, line: Int) throws -> String {
    let refuse = CSVError(path: file, line: line, reason: "path \"\(path)\" leaves the dataset root \(root.path); refused")
    guard !path.hasPrefix("/") else { throw refuse }
    let resolved = root.appendingPathComponent(path).standardizedFileURL.resolvingSymlinksInPath().path
    let base = root.standardizedFileURL.resolvingSymlinksInPath().path
    guard resolved.hasPrefix(base + "/") else { throw refuse }
    return String(resolved.dropFirst(base.count + 1))
  }
}
