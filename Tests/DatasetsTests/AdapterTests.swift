import DatasetTestSupport
import Datasets
import Foundation
import Imaging
import XCTest

/// Every adapter on its exact layout, with the junk real downloads contain.
final class AdapterTests: XCTestCase {
  private var fixtures: DatasetFixtures!

  override func setUpWithError() throws { fixtures = try DatasetFixtures() }
  override func tearDown() { fixtures.remove() }

  private func reasons(_ inspection: DatasetInspection) -> [String: String] {
    Dictionary(uniqueKeysWithValues: inspection.skipped.map { ($0.path, $0.reason) })
  }

  func testNaturalImages_countsClassesAndNamesEveryBrokenFile() throws {
    let root = try fixtures.naturalImages()
    let dataset = try DatasetAdapter.naturalImages.load(root: root)
    XCTAssertEqual(dataset.classNames, ["airplane", "car", "cat"])
    let inspection = DatasetInspection(dataset)
    XCTAssertEqual(inspection.classes.map(\.count), [4, 3, 3])
    XCTAssertEqual(inspection.images, 10)
    let skipped = reasons(inspection)
    XCTAssertEqual(skipped["natural_images/airplane/airplane_0099.jpg"], "GIF images are not supported")
    XCTAssertEqual(skipped["natural_images/car/car_0099.jpg"], "empty file")
    XCTAssertEqual(skipped["natural_images/car/notes.txt"], "not an image")
    XCTAssertEqual(skipped["natural_images/cat/cat_0099.jpg"], "corrupt image: premature end of JPEG data (truncated file)")
    XCTAssertEqual(skipped["natural_images/cat/.DS_Store"], "operating-system metadata")
    XCTAssertEqual(skipped["natural_images/__MACOSX"], "operating-system metadata")
    XCTAssertEqual(inspection.duplicates, [["natural_images/airplane/airplane_0000.jpg", "natural_images/airplane/airplane_0003.jpg"]])
    XCTAssertEqual(inspection.sizes.maxWidth, 24)
    XCTAssertEqual(inspection.presets, ["default", "demo", "mini"])
  }

  /// Symbolic links that lead out of the dataset root (a file, a whole class folder) are
  /// refused and named, in every folder adapter, as the CSV adapter refuses such paths; a
  /// link that stays inside the root is an ordinary image.
  func testSymbolicLinksOutOfTheRoot_areRefusedByEveryAdapter() throws {
    let outside = FileManager.default.temporaryDirectory.appendingPathComponent("podium-outside-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: outside) }
    try fixtures.jpeg(.rgb).write(to: outside.appendingPathComponent("secret.jpg"))
    let link = { (path: URL, target: String) in try FileManager.default.createSymbolicLink(atPath: path.path, withDestinationPath: target) }
    let natural = try fixtures.naturalImages()
    let images = natural.appendingPathComponent("natural_images")
    try link(images.appendingPathComponent("cat/cat_0500.jpg"), outside.appendingPathComponent("secret.jpg").path)
    try link(images.appendingPathComponent("cat/cat_0501.jpg"), "../airplane/airplane_0000.jpg")
    try link(images.appendingPathComponent("airplane/stolen"), outside.path)  // not a class: a folder inside one
    let dataset = try DatasetAdapter.naturalImages.load(root: natural)
    let skipped = reasons(DatasetInspection(dataset))
    let refusal = "a symbolic link to \(outside.resolvingSymlinksInPath().path)/secret.jpg, outside the dataset root; refused"
    XCTAssertEqual(skipped["natural_images/cat/cat_0500.jpg"], refusal)
    XCTAssertTrue(dataset.samples.contains { $0.path == "natural_images/cat/cat_0501.jpg" }, "a link inside the root is kept")
    XCTAssertFalse(dataset.samples.contains { $0.path.contains("secret") || $0.path.contains("stolen") })
    // A class folder that is a link out of the root: every file in it is refused.
    try link(images.appendingPathComponent("dog"), outside.path)
    let withLinkedClass = try DatasetAdapter.imageFolder.load(root: images)
    XCTAssertEqual(reasons(DatasetInspection(withLinkedClass))["dog/secret.jpg"], refusal)
    XCTAssertFalse(withLinkedClass.samples.contains { $0.path.hasPrefix("dog/") })
    let dogs = try fixtures.dogsVsCats()
    try link(dogs.appendingPathComponent("train/cat.99.jpg"), outside.appendingPathComponent("secret.jpg").path)
    XCTAssertEqual(reasons(DatasetInspection(try DatasetAdapter.dogsVsCats.load(root: dogs)))["train/cat.99.jpg"], refusal)
  }

  func testGreyscaleCMYKAlphaAndPaletteImages_decodeToRGB() throws {
    let root = try fixtures.naturalImages().appendingPathComponent("natural_images")
    let grey = try ImageDecoder.decode(contentsOf: root.appendingPathComponent("airplane/airplane_0001.jpg"))
    let (r, g, b) = grey[5, 5]
    XCTAssertTrue(r == g && g == b, "grey JPEG → equal channels")
    for path in ["airplane/airplane_0002.JPG", "car/car_0000.png", "car/car_0001.png"] {
      let image = try ImageDecoder.decode(contentsOf: root.appendingPathComponent(path))
      XCTAssertEqual(image.pixels.count, image.width * image.height * 3, path)
    }
  }

  func testCMYKAndYCCKJPEGs_keepTheirColours() throws {
    // Pure cyan ink (Adobe-inverted CMYK bytes 0,255,255,255) must come back as cyan, stored
    // as CMYK or as YCCK.
    let cyan: [UInt8] = (0..<(8 * 8 * 4)).map { $0 % 4 == 0 ? 0 : 255 }
    try FileManager.default.createDirectory(at: fixtures.root, withIntermediateDirectories: true)
    for colour in [ImageEncoder.JPEGColour.cmyk, .ycck] {
      let data = try ImageEncoder.jpeg(cyan, width: 8, height: 8, colour: colour, quality: 100)
      let url = fixtures.root.appendingPathComponent("cyan-\(colour).jpg")
      try data.write(to: url)
      let (r, g, b) = try ImageDecoder.decode(contentsOf: url)[4, 4]
      XCTAssertLessThan(r, 30, "\(colour)")
      XCTAssertGreaterThan(g, 225, "\(colour)")
      XCTAssertGreaterThan(b, 225, "\(colour)")
    }
  }

  func testCaltech256_stripsNumbersAndCanLeaveOutClutter() throws {
    let root = try fixtures.caltech256()
    let all = try DatasetAdapter.caltech256.load(root: root)
    XCTAssertEqual(all.classNames, ["ak47", "american-flag", "clutter"])
    XCTAssertEqual(all.classCounts, [3, 2, 2])
    XCTAssertEqual(Set(all.presets.keys), ["train30", "train60"])
    XCTAssertEqual(all.skipped, [Dataset.Skipped(path: "256_ObjectCategories/002.american-flag/RENAME2", reason: "not an image")])
    let withoutClutter = try DatasetAdapter.caltech256.load(root: root, options: ["clutter": "false"])
    XCTAssertEqual(withoutClutter.classNames, ["ak47", "american-flag"])
    XCTAssertThrowsError(try DatasetAdapter.caltech256.load(root: root, options: ["cluter": "false"])) {
      XCTAssertEqual("\($0)", "caltech256 option cluter: unknown option; known: clutter")
    }
  }

  func testDogsVsCats_labelsFromNamesAndNumericTestIDs() throws {
    let dataset = try DatasetAdapter.dogsVsCats.load(root: try fixtures.dogsVsCats())
    XCTAssertEqual(dataset.classNames, ["cat", "dog"])
    XCTAssertEqual(dataset.classCounts, [3, 4])
    XCTAssertEqual(dataset.unlabelled.map(\.id), ["1", "2", "10"], "nested test1/test1/, sorted by numeric id")
    XCTAssertEqual(dataset.skipped.map(\.path), ["train/Thumbs.db"])
  }

  func testFlickr8_readsTheLabelsCSVWithBOMAndCRLF() throws {
    let dataset = try DatasetAdapter.flickr8.load(root: try fixtures.flickr8())
    XCTAssertEqual(dataset.classNames.count, 8)
    XCTAssertEqual(dataset.classCounts, [2, 2, 2, 0, 0, 0, 0, 0])
    XCTAssertEqual(dataset.samples.first { $0.id == "3" }?.label, 1)
    XCTAssertEqual(dataset.skipped.map(\.reason), ["id 7 has no image in train/"])
    XCTAssertEqual(dataset.unlabelled.map(\.id), ["100", "101"])
  }

  func testCSV_readsQuotedPathsAndRefusesPathsOutsideTheRoot() throws {
    let root = try fixtures.csv()
    let dataset = try DatasetAdapter.csv.load(root: root)
    XCTAssertEqual(dataset.classNames, ["no", "yes"])
    XCTAssertEqual(dataset.samples.map(\.path), ["images/a.jpg", "images/b, copy.jpg", "images/c.png"])
    XCTAssertThrowsError(try DatasetAdapter.csv.load(root: root, options: ["file": "escape.csv"])) {
      XCTAssertEqual("\($0)", "\(root.appendingPathComponent("escape.csv").path) line 3: path \"../../etc/passwd\" leaves the dataset root \(root.standardizedFileURL.path); refused")
    }
    XCTAssertThrowsError(try DatasetAdapter.csv.load(root: root, options: ["path_column": "file"])) {
      XCTAssertTrue("\($0)".hasSuffix("line 1: no column \"file\"; the columns are \"path\", \"label\""), "\($0)")
    }
  }

  /// Grouped cross-validation reads each image's group from a column of the labels CSV; a
  /// missing column, or an adapter without a labels CSV, is one clear error.
  func testCSV_readsTheGroupColumn_forGroupedFolds() throws {
    let root = try fixtures.csv()
    try Data("path,label,patient\nimages/a.jpg,yes,p1\nimages/c.png,yes,p2\n\"images/b, copy.jpg\",no,\n".utf8)
      .write(to: root.appendingPathComponent("grouped.csv"))
    let dataset = try DatasetAdapter.csv.load(root: root, options: ["file": "grouped.csv"], groupColumn: "patient")
    XCTAssertEqual(dataset.samples.map(\.group), ["p1", nil, "p2"], "an empty cell is no group")
    XCTAssertThrowsError(try Split(dataset, spec: .fractions(train: 1, validation: 0, test: 0), seed: 0,
                                   crossValidation: CrossValidation(folds: 2, groupColumn: "patient"))) {
      XCTAssertEqual("\($0)", "images/b, copy.jpg: has no value in the group column patient")
    }
    XCTAssertThrowsError(try DatasetAdapter.csv.load(root: root, groupColumn: "patient")) {
      XCTAssertTrue("\($0)".hasSuffix("line 1: no column \"patient\"; the columns are \"path\", \"label\""), "\($0)")
    }
    XCTAssertThrowsError(try DatasetAdapter.naturalImages.load(root: root, groupColumn: "patient")) {
      XCTAssertEqual("\($0)", "cv group_column patient: groups come from a column of the csv adapter's labels file; natural-images has none")
    }
  }

  /// The labels CSV may live outside the root, named by an absolute path (it was joined
  /// under the root and reported missing); its image paths still may not leave the root.
  func testCSV_readsALabelsFileOutsideTheRoot_byItsAbsolutePath() throws {
    let root = try fixtures.csv()
    let outside = root.deletingLastPathComponent().appendingPathComponent("labels-\(UUID().uuidString).csv")
    try FileManager.default.copyItem(at: root.appendingPathComponent("labels.csv"), to: outside)
    defer { try? FileManager.default.removeItem(at: outside) }
    let dataset = try DatasetAdapter.csv.load(root: root, options: ["file": outside.path])
    XCTAssertEqual(dataset.samples.map(\.path), ["images/a.jpg", "images/b, copy.jpg", "images/c.png"])
  }

  /// aptos2019-blindness-detection: ids without extension through `path_template`; the test
  /// images chosen and ordered by the sample submission, named by their ids.
  func testCSV_readsTheAptosLayout() throws {
    let root = try fixtures.aptos()
    let dataset = try DatasetAdapter.csv.load(root: root, options: [
      "file": "train.csv", "path_column": "id_code", "label_column": "diagnosis", "path_template": "train_images/{id}.png",
      "test_folder": "test_images", "sample_submission": "sample_submission.csv",
    ])
    XCTAssertEqual(dataset.classNames, ["0", "1", "2", "4"])
    XCTAssertEqual(dataset.samples.count, 6)
    XCTAssertEqual(dataset.samples.first?.path, "train_images/000c1434d8d7.png")
    XCTAssertEqual(dataset.unlabelled.map(\.id), ["e4dcca36ceb4", "0005cfc8afb6", "003f0afdcd15"], "the sample's order")
    XCTAssertEqual(dataset.unlabelled.map(\.path), ["test_images/e4dcca36ceb4.png", "test_images/0005cfc8afb6.png", "test_images/003f0afdcd15.png"])
    XCTAssertEqual(dataset.skipped, [])
  }

  /// aerial-cactus-identification: ids that are file names; a test image the sample does not
  /// list is passed over and named.
  func testCSV_readsTheAerialCactusLayout() throws {
    let root = try fixtures.aerialCactus()
    let dataset = try DatasetAdapter.csv.load(root: root, options: [
      "file": "train.csv", "path_column": "id", "label_column": "has_cactus", "path_template": "train/{id}", "test_folder": "test",
      "sample_submission": "sample_submission.csv",
    ])
    XCTAssertEqual(dataset.classNames, ["0", "1"])
    XCTAssertEqual(dataset.classCounts, [2, 2])
    XCTAssertEqual(dataset.unlabelled.map(\.id), ["c662bde123f0f83b3caae0ffda237a93.jpg", "000940378805c44108d287872b2f04ce.jpg"])
    XCTAssertEqual(dataset.skipped, [.init(path: "test/ffffffffffffffffffffffffffffffff.jpg", reason: "not listed in sample_submission.csv")])
    // Without the sample, every image of the test folder, by id.
    let all = try DatasetAdapter.csv.load(root: root, options: [
      "file": "train.csv", "path_column": "id", "label_column": "has_cactus", "path_template": "train/{id}", "test_folder": "test",
    ])
    XCTAssertEqual(all.unlabelled.count, 3)
  }

  /// plant-seedlings-classification: class folders under `train/`, the sample's file names.
  func testImageFolder_readsThePlantSeedlingsLayout() throws {
    let root = try fixtures.plantSeedlings()
    let dataset = try DatasetAdapter.imageFolder.load(root: root, options: [
      "train_folder": "train", "test_folder": "test", "sample_submission": "sample_submission.csv",
    ])
    XCTAssertEqual(dataset.classNames, ["Black-grass", "Charlock", "Common Chickweed"])
    XCTAssertEqual(dataset.classCounts, [2, 2, 2])
    XCTAssertEqual(dataset.unlabelled.map(\.id), ["fd87b36ae.png", "0021e90e4.png", "003d61042.png"])
    // Class folders at the root beside the test folder: the test folder is not a class.
    let flat = try DatasetAdapter.imageFolder.load(root: root.appendingPathComponent("train"))
    XCTAssertEqual(flat.classNames.count, 3)
    XCTAssertThrowsError(try DatasetAdapter.imageFolder.load(root: root, options: ["train_folder": "../.."])) {
      XCTAssertTrue("\($0)".hasPrefix("image-folder option train_folder: ../.. leaves the dataset root"), "\($0)")
    }
  }

  /// Each competition option misused is one line naming it, the file or the line.
  func testCSVCompetitionOptions_refuseWhatCannotWork() throws {
    let root = try fixtures.aptos()
    let base = ["file": "train.csv", "path_column": "id_code", "label_column": "diagnosis", "path_template": "train_images/{id}.png"]
    func error(_ extra: [String: String]) -> String {
      do { _ = try DatasetAdapter.csv.load(root: root, options: base.merging(extra) { $1 }) } catch { return "\(error)" }
      return "no error"
    }
    XCTAssertEqual(error(["path_template": "train_images/x.png"]), "csv option path_template: \"train_images/x.png\" has no {id} for the path column's value")
    XCTAssertEqual(error(["sample_submission": "sample_submission.csv"]), "csv option sample_submission: needs test_folder, the folder its ids name images in")
    XCTAssertTrue(error(["test_folder": "../aptos"]).hasPrefix("csv option test_folder: ../aptos leaves the dataset root"), error(["test_folder": "../aptos"]))
    try Data("id_code,diagnosis\ne4dcca36ceb4,0\nmissing000000,0\n".utf8).write(to: root.appendingPathComponent("other.csv"))
    XCTAssertEqual(error(["test_folder": "test_images", "sample_submission": "other.csv"]),
                   "\(root.appendingPathComponent("other.csv").path) line 3: id \"missing000000\" names no image in test_images/ (by file name, or by name without extension)")
  }

  func testMissingRoot_isOneClearError() {
    XCTAssertThrowsError(try DatasetAdapter.imageFolder.load(root: URL(fileURLWithPath: "/nonexistent/data"))) {
      XCTAssertEqual("\($0)", "/nonexistent/data: no such folder")
    }
  }
}

final class DemoDatasetTests: XCTestCase {
  func testDemoDataset_isANaturalImagesLayoutWithATestFolder_andDeterministic() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-demo-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let demo = DemoDataset(imagesPerClass: 6, testImagesPerClass: 1, size: 32)
    try demo.write(to: folder.appendingPathComponent("a"))
    try demo.write(to: folder.appendingPathComponent("b"))
    let dataset = try DatasetAdapter.naturalImages.load(root: folder.appendingPathComponent("a"))
    XCTAssertEqual(dataset.classNames, DemoDataset.classNames.sorted())
    XCTAssertEqual(dataset.classCounts, [Int](repeating: 6, count: 8))
    XCTAssertEqual(dataset.unlabelled.map(\.id), (1...8).map(String.init))
    XCTAssertTrue(dataset.skipped.isEmpty, "\(dataset.skipped)")
    for sample in dataset.samples + dataset.unlabelled {
      let a = try Data(contentsOf: folder.appendingPathComponent("a").appendingPathComponent(sample.path))
      let b = try Data(contentsOf: folder.appendingPathComponent("b").appendingPathComponent(sample.path))
      XCTAssertEqual(a, b, "same seed, same bytes: \(sample.path)")
    }
    XCTAssertNotNil(dataset.presets["demo"])
  }
}
