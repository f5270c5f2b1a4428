import Engine
import Foundation
import Imaging

/// Writes each adapter's exact on-disk layout with small real JPEG and PNG files, including
/// what real downloads contain: greyscale and CMYK JPEGs, a truncated JPEG, a zero-byte
/// file, a non-image file inside a class folder, a GIF with a `.jpg` name, PNGs with alpha
/// and a palette, upper-case extensions, a duplicated file, `.DS_Store` and `__MACOSX/`.
public struct DatasetFixtures {
  /// The folder everything is written under (removed by ``remove()``).
  public let root: URL
  private var rng = SeededGenerator(seed: 17)

  public init() throws {
    root = FileManager.default.temporaryDirectory.appendingPathComponent("podium-datasets-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
  }

  public func remove() { try? FileManager.default.removeItem(at: root) }

  // MARK: - Layouts

  /// `natural_images/<class>/<class>_NNNN.jpg` for airplane (4 images), car (3) and cat (3),
  /// plus: greyscale, CMYK, upper-case `.JPG`, alpha and palette PNGs among the good ones;
  /// broken: `cat/cat_0099.jpg` (truncated), `car/car_0099.jpg` (zero bytes), `car/notes.txt`
  /// (text), `airplane/airplane_0099.jpg` (a GIF); a duplicate of `airplane_0000.jpg`
  /// as `airplane_0003.jpg`; `.DS_Store` files and a `__MACOSX/` folder.
  public mutating func naturalImages() throws -> URL {
    let base = root.appendingPathComponent("natural-images")
    let folder = base.appendingPathComponent("natural_images")
    try write(try jpeg(.rgb), to: folder.appendingPathComponent("airplane/airplane_0000.jpg"))
    try write(try jpeg(.grey), to: folder.appendingPathComponent("airplane/airplane_0001.jpg"))
    try write(try jpeg(.cmyk), to: folder.appendingPathComponent("airplane/airplane_0002.JPG"))
    try FileManager.default.copyItem(at: folder.appendingPathComponent("airplane/airplane_0000.jpg"),
                                     to: folder.appendingPathComponent("airplane/airplane_0003.jpg"))
    try write(Data("GIF89a\u{1}\u{0}\u{1}\u{0}".utf8), to: folder.appendingPathComponent("airplane/airplane_0099.jpg"))
    try write(try png(.rgba), to: folder.appendingPathComponent("car/car_0000.png"))
    try write(try png(.palette), to: folder.appendingPathComponent("car/car_0001.png"))
    try write(try jpeg(.rgb), to: folder.appendingPathComponent("car/car_0002.jpeg"))
    try write(Data(), to: folder.appendingPathComponent("car/car_0099.jpg"))
    try write(Data("shot on a phone\n".utf8), to: folder.appendingPathComponent("car/notes.txt"))
    for i in 0..<3 { try write(try jpeg(.rgb), to: folder.appendingPathComponent("cat/cat_000\(i).jpg")) }
    let whole = try jpeg(.rgb, width: 160, height: 120)
    try write(whole.prefix(whole.count / 2), to: folder.appendingPathComponent("cat/cat_0099.jpg"))
    try write(Data([0, 0, 0, 1]), to: folder.appendingPathComponent("cat/.DS_Store"))
    try write(Data([0, 0, 0, 1]), to: base.appendingPathComponent("natural_images/.DS_Store"))
    try write(Data("mac".utf8), to: folder.appendingPathComponent("__MACOSX/cat/._cat_0000.jpg"))
    return base
  }

  /// `256_ObjectCategories/NNN.name/NNN_MMMM.jpg` for `001.ak47` (3), `002.american-flag` (2),
  /// `257.clutter` (2), with Caltech's own stray non-image (`002.american-flag/RENAME2`).
  public mutating func caltech256() throws -> URL {
    let base = root.appendingPathComponent("caltech256")
    let folder = base.appendingPathComponent("256_ObjectCategories")
    for i in 1...3 { try write(try jpeg(.rgb), to: folder.appendingPathComponent("001.ak47/001_000\(i).jpg")) }
    for i in 1...2 { try write(try jpeg(.grey), to: folder.appendingPathComponent("002.american-flag/002_000\(i).jpg")) }
    try write(Data("rename me".utf8), to: folder.appendingPathComponent("002.american-flag/RENAME2"))
    for i in 1...2 { try write(try jpeg(.rgb), to: folder.appendingPathComponent("257.clutter/257_000\(i).jpg")) }
    return base
  }

  /// Kaggle's `train/cat.N.jpg` (3), `train/dog.N.jpg` (4), nested `test1/test1/N.jpg`
  /// (ids 1, 2, 10), and a stray `train/Thumbs.db`.
  public mutating func dogsVsCats() throws -> URL {
    let base = root.appendingPathComponent("dogs-vs-cats")
    for i in 0..<3 { try write(try jpeg(.rgb), to: base.appendingPathComponent("train/cat.\(i).jpg")) }
    for i in 0..<4 { try write(try jpeg(.rgb), to: base.appendingPathComponent("train/dog.\(i).jpg")) }
    for id in [10, 2, 1] { try write(try jpeg(.rgb), to: base.appendingPathComponent("test1/test1/\(id).jpg")) }
    try write(Data([1, 2]), to: base.appendingPathComponent("train/Thumbs.db"))
    return base
  }

  /// `train.csv` (UTF-8 BOM, CRLF, a quoted id) labelling ids 1–6 with labels 1–3 and id 7,
  /// which has no image; `train/<id>.jpg`; unlabelled `test/<id>.png` for ids 100 and 101.
  public mutating func flickr8() throws -> URL {
    let base = root.appendingPathComponent("flickr8")
    let labels = "\u{FEFF}id,label\r\n1,1\r\n2,1\r\n\"3\",2\r\n4,2\r\n5,3\r\n6,3\r\n7,3\r\n"
    try write(Data(labels.utf8), to: base.appendingPathComponent("train.csv"))
    for id in 1...6 { try write(try jpeg(.rgb, width: 32, height: 32), to: base.appendingPathComponent("train/\(id).jpg")) }
    for id in [100, 101] { try write(try png(.rgb), to: base.appendingPathComponent("test/\(id).png")) }
    return base
  }

  /// `labels.csv` with `path,label` (one quoted path with a comma) over `images/`, and
  /// `escape.csv` whose path column says `../../etc/passwd`.
  public mutating func csv() throws -> URL {
    let base = root.appendingPathComponent("csv")
    try write(try jpeg(.rgb), to: base.appendingPathComponent("images/a.jpg"))
    try write(try jpeg(.rgb), to: base.appendingPathComponent("images/b, copy.jpg"))
    try write(try png(.rgb), to: base.appendingPathComponent("images/c.png"))
    try write(Data("path,label\nimages/a.jpg,yes\n\"images/b, copy.jpg\",no\nimages/c.png,yes\n".utf8),
              to: base.appendingPathComponent("labels.csv"))
    try write(Data("path,label\nimages/a.jpg,yes\n../../etc/passwd,no\n".utf8), to: base.appendingPathComponent("escape.csv"))
    return base
  }

  /// aptos2019-blindness-detection's layout: `train.csv` with `id_code,diagnosis` (ids
  /// without folder or extension), `train_images/{id}.png`, `test_images/{id}.png` and a
  /// `sample_submission.csv` (`id_code,diagnosis`, ids in the competition's order, not sorted).
  public mutating func aptos() throws -> URL {
    let base = root.appendingPathComponent("aptos")
    let train = [("000c1434d8d7", 2), ("001639a390f0", 4), ("0024cdab0c1e", 1), ("002c21358ce6", 0), ("005b95c28852", 0),
                 ("0083ee8054ee", 4)]
    try write(Data(("id_code,diagnosis\n" + train.map { "\($0.0),\($0.1)\n" }.joined()).utf8), to: base.appendingPathComponent("train.csv"))
    for (id, _) in train { try write(try png(.rgb), to: base.appendingPathComponent("train_images/\(id).png")) }
    let test = ["e4dcca36ceb4", "0005cfc8afb6", "003f0afdcd15"]
    for id in test { try write(try png(.rgb), to: base.appendingPathComponent("test_images/\(id).png")) }
    try write(Data(("id_code,diagnosis\n" + test.map { "\($0),0\n" }.joined()).utf8), to: base.appendingPathComponent("sample_submission.csv"))
    return base
  }

  /// aerial-cactus-identification's layout: `train.csv` with `id,has_cactus` (ids are file
  /// names with `.jpg`), `train/`, `test/` and a `sample_submission.csv` with a probability
  /// column (`0.5`); one test image the sample does not list.
  public mutating func aerialCactus() throws -> URL {
    let base = root.appendingPathComponent("cactus")
    let train = [("0004be2cfeaba1c0361d39e2b000257b.jpg", 1), ("000c8a36845c0208e833c79c1bffedd1.jpg", 1),
                 ("000d1e9a533f62e55c289303b072733d.jpg", 0), ("0011485b40695e9138e92d0b3fb55128.jpg", 0)]
    try write(Data(("id,has_cactus\n" + train.map { "\($0.0),\($0.1)\n" }.joined()).utf8), to: base.appendingPathComponent("train.csv"))
    for (id, _) in train { try write(try jpeg(.rgb, width: 32, height: 32), to: base.appendingPathComponent("train/\(id)")) }
    let test = ["c662bde123f0f83b3caae0ffda237a93.jpg", "000940378805c44108d287872b2f04ce.jpg"]
    for id in test + ["ffffffffffffffffffffffffffffffff.jpg"] {
      try write(try jpeg(.rgb, width: 32, height: 32), to: base.appendingPathComponent("test/\(id)"))
    }
    try write(Data(("id,has_cactus\n" + test.map { "\($0),0.5\n" }.joined()).utf8), to: base.appendingPathComponent("sample_submission.csv"))
    return base
  }

  /// plant-seedlings-classification's layout: `train/<species>/<file>.png`, `test/<file>.png`
  /// and a `sample_submission.csv` with `file,species` (file names with extension).
  public mutating func plantSeedlings() throws -> URL {
    let base = root.appendingPathComponent("seedlings")
    for species in ["Black-grass", "Charlock", "Common Chickweed"] {
      for index in 0..<2 { try write(try png(.rgb), to: base.appendingPathComponent("train/\(species)/\(species.prefix(2))\(index)a1f3.png")) }
    }
    let test = ["fd87b36ae.png", "0021e90e4.png", "003d61042.png"]
    for name in test { try write(try png(.rgb), to: base.appendingPathComponent("test/\(name)")) }
    try write(Data(("file,species\n" + test.map { "\($0),Charlock\n" }.joined()).utf8), to: base.appendingPathComponent("sample_submission.csv"))
    return base
  }

  // MARK: - Files

  /// A JPEG of random smooth colour, `width × height`, in the given colour model.
  public mutating func jpeg(_ colour: ImageEncoder.JPEGColour, width: Int = 24, height: Int = 16) throws -> Data {
    try ImageEncoder.jpeg(pixels(width, height, channels: colour.components), width: width, height: height, colour: colour)
  }

  /// A PNG of random colour in the given colour model (at most 4 colours for a palette).
  public mutating func png(_ colour: ImageEncoder.PNGColour, width: Int = 20, height: Int = 12) throws -> Data {
    let channels: Int = [.grey: 1, .greyAlpha: 2, .rgb: 3, .rgba: 4, .palette: 3][colour]!
    var values = pixels(width, height, channels: channels)
    if colour == .palette { values = values.map { $0 & 0xC0 } }  // few distinct colours
    return try ImageEncoder.png(values, width: width, height: height, colour: colour)
  }

  private mutating func pixels(_ width: Int, _ height: Int, channels: Int) -> [UInt8] {
    let base = (0..<channels).map { _ in Int(rng.next() % 200) }
    return (0..<(width * height * channels)).map { i in
      let (pixel, channel) = (i / channels, i % channels)
      return UInt8(clamping: base[channel] + (pixel % width) + (pixel / width))
    }
  }

  private func write(_ data: Data, to url: URL) throws {
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try data.write(to: url)
  }
}
