import Foundation

/// One sub-folder per class (`<root>/<class>/<image>`): the generic layout, also the
/// core of Natural Images and Caltech-256.
enum ImageFolder {
  /// Reads the class folders under `classFolder`; `className` maps a folder name to a class
  /// name (Caltech's `001.ak47` → `ak47`).
  static func load(
    _ root: URL, adapter: String, classFolder: URL, keepFolder: (String) -> Bool = { _ in true },
    className: (String) -> String = { $0 }, presets: [String: SplitSpec] = ["default": .fractions(train: 0.7, validation: 0.15, test: 0.15)]
  ) throws -> Dataset {
    let folders = try ImageFiles.subfolders(classFolder).filter(keepFolder)
    guard !folders.isEmpty else { throw DatasetError(path: classFolder.path, reason: "no class sub-folders") }
    var samples: [Dataset.Sample] = [], skipped = ImageFiles.junk(in: classFolder, relativeTo: root)
    for (label, folder) in folders.enumerated() {
      let (images, rejected) = try ImageFiles.scan(classFolder.appendingPathComponent(folder), relativeTo: root)
      samples += images.map { Dataset.Sample(path: $0, label: label) }
      skipped += rejected
    }
    return Dataset(adapter: adapter, root: root, classNames: folders.map(className), samples: samples,
                   unlabelled: [], skipped: skipped, presets: presets)
  }
}

extension ImageFolder {
  /// The `image-folder` adapter: class folders under the root or under `train_folder`
  /// (plant-seedlings-classification's `train/<species>/`), with the competition's test
  /// images from `test_folder` and `sample_submission` (``CompetitionTestImages``). The test
  /// folder is never a class.
  ///
  /// - Throws: ``DatasetError`` for a train folder outside the root, and the loader's errors.
  static func competition(_ root: URL, options: [String: String]) throws -> Dataset {
    let (train, test) = (options["train_folder"] ?? "", options["test_folder"] ?? "")
    let classFolder = train.isEmpty ? root : root.appendingPathComponent(train)
    guard !train.hasPrefix("/"), ImageFiles.outsideRoot(classFolder.appendingPathComponent("x"), root) == nil else {
      throw DatasetError(path: "image-folder option train_folder", reason: "\(train) leaves the dataset root \(root.path); refused")
    }
    var dataset = try load(root, adapter: DatasetAdapter.imageFolder.rawValue, classFolder: classFolder,
                           keepFolder: { !train.isEmpty || $0 != test })
    try CompetitionTestImages.add(to: &dataset, options: options, adapter: .imageFolder)
    return dataset
  }
}

/// Natural Images (Roy et al., 2018): `natural_images/<class>/<class>_NNNN.jpg`, 8 classes.
/// The root may be the folder that contains `natural_images` or that folder itself. A
/// `test/` folder beside `natural_images` holds unlabelled images for a submission (Podium's
/// demo set has one; the Kaggle download does not).
enum NaturalImages {
  static func load(_ root: URL) throws -> Dataset {
    let nested = root.appendingPathComponent("natural_images")
    let classFolder = FileManager.default.fileExists(atPath: nested.path) ? nested : root
    // "Mini Natural Images": about 100 training images per class, as the seed used.
    var dataset = try ImageFolder.load(
      root, adapter: DatasetAdapter.naturalImages.rawValue, classFolder: classFolder,
      presets: ["mini": .perClass(train: 100, validation: 30, test: nil), "demo": .perClass(train: 40, validation: 20, test: 0),
                "default": .fractions(train: 0.6, validation: 0.2, test: 0.2)])
    let test = root.appendingPathComponent("test")
    if classFolder != root, FileManager.default.fileExists(atPath: test.path) {
      let (images, skipped) = try ImageFiles.scan(test, relativeTo: root)
      dataset.unlabelled = ImageFiles.unlabelledSamples(images)
      dataset.skipped += skipped
    }
    return dataset
  }
}

/// Caltech-256 (Griffin et al., 2007): `256_ObjectCategories/NNN.name/NNN_MMMM.jpg`, 256
/// categories and `257.clutter`. Presets follow the literature: N training images per class,
/// the rest for testing (scored by mean per-class accuracy); 10 per class are kept for
/// validation.
enum Caltech256 {
  static func load(_ root: URL, includeClutter: Bool) throws -> Dataset {
    let nested = root.appendingPathComponent("256_ObjectCategories")
    let classFolder = FileManager.default.fileExists(atPath: nested.path) ? nested : root
    return try ImageFolder.load(
      root, adapter: DatasetAdapter.caltech256.rawValue, classFolder: classFolder,
      keepFolder: { includeClutter || !$0.hasSuffix(".clutter") },
      className: { name in name.firstIndex(of: ".").map { String(name[name.index(after: $0)...]) } ?? name },
      presets: ["train30": .perClass(train: 30, validation: 10, test: nil),
                "train60": .perClass(train: 60, validation: 10, test: nil)])
  }
}
