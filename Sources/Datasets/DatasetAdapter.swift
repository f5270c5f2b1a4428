import Foundation

/// The dataset layouts Podium reads, by the names used on the command line and in specs.
public enum DatasetAdapter: String, CaseIterable, Sendable, Codable {
  case caltech256
  case naturalImages = "natural-images"
  case dogsVsCats = "dogs-vs-cats"
  case flickr8
  case imageFolder = "image-folder"
  case csv

  /// One line for `podium datasets list`.
  public var summary: String {
    switch self {
    case .caltech256: return "256_ObjectCategories/NNN.name/NNN_MMMM.jpg, 257 classes with 257.clutter (option clutter=false)"
    case .naturalImages: return "natural_images/<class>/<class>_NNNN.jpg, 8 classes"
    case .dogsVsCats: return "train/cat.N.jpg and train/dog.N.jpg; unlabelled test1/N.jpg (or Redux's test/N.jpg)"
    case .flickr8: return "labels CSV id,label (1-8) + images folder; unlabelled test folder (options labels, images, test)"
    case .imageFolder: return "<root>/<class>/<image>, one sub-folder per class (or under train_folder); test_folder and sample_submission"
    case .csv: return "a CSV of image paths (or ids, with path_template) and labels; test_folder and sample_submission for a competition's test set"
    }
  }

  /// The options the adapter accepts, with their defaults.
  public var options: [String: String] {
    switch self {
    case .caltech256: return ["clutter": "true"]
    case .flickr8: return ["labels": "train.csv", "images": "train", "test": "test"]
    case .imageFolder: return ["train_folder": "", "test_folder": "", "sample_submission": ""]
    case .csv:
      return ["file": "labels.csv", "path_column": "path", "label_column": "label", "path_template": "", "test_folder": "",
              "sample_submission": ""]
    default: return [:]
    }
  }

  /// Every option name any adapter accepts: the keys a spec's `dataset:` may hold besides
  /// `adapter`, `root`, `name` and `split`.
  public static var optionNames: Set<String> {
    Set(allCases.flatMap(\.options.keys))
  }

  /// Reads the dataset at `root`; with `groupColumn`, each labelled image's group from that
  /// column of the labels CSV (for grouped cross-validation).
  ///
  /// - Throws: ``DatasetError`` (or ``CSVError``) naming the path, line or option at fault, or
  ///   the group column when the adapter reads no CSV of labels or the CSV lacks it.
  public func load(root: URL, options given: [String: String] = [:], groupColumn: String? = nil) throws -> Dataset {
    if let groupColumn, self != .csv {
      throw DatasetError(path: "cv group_column \(groupColumn)", reason: "groups come from a column of the csv adapter's labels file; \(rawValue) has none")
    }
    let defaults = options
    if let unknown = given.keys.sorted().first(where: { defaults[$0] == nil }) {
      let known = defaults.keys.sorted().joined(separator: ", ")
      throw DatasetError(path: "\(rawValue) option \(unknown)", reason: known.isEmpty ? "this adapter takes no options" : "unknown option; known: \(known)")
    }
    let options = defaults.merging(given) { $1 }
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isFolder), isFolder.boolValue else {
      throw DatasetError(path: root.path, reason: "no such folder")
    }
    let root = root.standardizedFileURL
    switch self {
    case .caltech256: return try Caltech256.load(root, includeClutter: options["clutter"] != "false")
    case .naturalImages: return try NaturalImages.load(root)
    case .dogsVsCats: return try DogsVsCats.load(root)
    case .flickr8: return try Flickr8.load(root, options: options)
    case .imageFolder: return try ImageFolder.competition(root, options: options)
    case .csv: return try CSVDataset.load(root, options: options, groupColumn: groupColumn)
    }
  }
}
