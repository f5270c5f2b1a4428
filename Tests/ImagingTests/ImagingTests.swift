import Backbones
import Engine
import EngineTestSupport
import Foundation
import Imaging
import XCTest

final class ImagingTests: XCTestCase {
  private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("BackbonesTests/Fixtures")
  private var chelsea: URL { fixtures.appendingPathComponent("photos/chelsea.png") }
  private var coffee: URL { fixtures.appendingPathComponent("photos/coffee.jpg") }

  func testDecoding_recognisesFormatsByContentNotExtension() throws {
    let png = try ImageDecoder.decode(contentsOf: chelsea)
    XCTAssertEqual([png.width, png.height], [451, 300])
    let jpeg = try ImageDecoder.decode(contentsOf: coffee)
    XCTAssertEqual([jpeg.width, jpeg.height], [600, 400])
    let disguised = try copy(chelsea, as: "cat.jpg")  // a PNG named .jpg
    XCTAssertEqual(try ImageDecoder.decode(contentsOf: disguised), png)
  }

  func testDecoding_badFilesGiveOneClearReason() throws {
    let gif = try write(Data("GIF89a\u{1}\u{0}\u{1}\u{0}".utf8), as: "cat.jpg")
    XCTAssertThrowsError(try ImageDecoder.decode(contentsOf: gif)) {
      XCTAssertEqual("\($0)", "cannot decode \(gif.path): GIF images are not supported (JPEG and PNG are)")
    }
    let text = try write(Data("id,label\n1,2\n".utf8), as: "labels.png")
    XCTAssertThrowsError(try ImageDecoder.decode(contentsOf: text)) {
      XCTAssertEqual($0 as? DecodeError, DecodeError(path: text.path, reason: .notAnImage))
    }
    for source in [coffee, chelsea] {
      let bytes = try Data(contentsOf: source)
      let truncated = try write(bytes.prefix(bytes.count / 3), as: "truncated." + source.pathExtension)
      XCTAssertThrowsError(try ImageDecoder.decode(contentsOf: truncated)) { error in
        guard case .corrupt = (error as? DecodeError)?.reason else { return XCTFail("\(error)") }
      }
    }
    XCTAssertThrowsError(try ImageDecoder.decode(contentsOf: chelsea, maxPixels: 100_000)) {
      XCTAssertEqual($0 as? DecodeError, DecodeError(path: chelsea.path, reason: .tooLarge(width: 451, height: 300, limit: 100_000)))
    }
    // 168 bytes (from the jpeg fuzzer) that declare a 5889×16400 image: refused from the header.
    let declared = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/jpeg/declares-96-megapixels.jpg")
    XCTAssertThrowsError(try ImageDecoder.decode(contentsOf: declared, maxPixels: 1 << 22)) {
      XCTAssertEqual($0 as? DecodeError, DecodeError(path: declared.path, reason: .tooLarge(width: 5889, height: 16400, limit: 1 << 22)))
    }
  }

  /// Bombs of time and memory are refused with one line: a progressive JPEG of 300 scans
  /// (scripts/reference/make_jpeg_bomb.py; PIL decodes it, spending a pass per scan), and a
  /// file larger than the size limit, before any of it is read.
  func testDecodingBombs_areRefused() throws {
    let bomb = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/jpeg/progressive_300_scans.jpg")
    XCTAssertThrowsError(try ImageDecoder.decode(contentsOf: bomb)) {
      XCTAssertEqual("\($0)", "cannot decode \(bomb.path): corrupt image: progressive JPEG with more than 100 scans (refused as a decoding bomb)")
    }
    let size = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: coffee.path)[.size] as? Int)
    XCTAssertThrowsError(try ImageDecoder.decode(contentsOf: coffee, maxFileBytes: size - 1)) {
      XCTAssertEqual($0 as? DecodeError, DecodeError(path: coffee.path, reason: .fileTooLarge(bytes: size, limit: size - 1)))
    }
    XCTAssertNoThrow(try ImageDecoder.decode(contentsOf: coffee, maxFileBytes: size))
  }

  func testJPEGDownscaling_inTheDCTDomain() throws {
    let half = try ImageDecoder.decode(contentsOf: coffee, scaleDenominator: 2)
    XCTAssertEqual([half.width, half.height], [300, 200])
  }

  /// Both evaluation preprocessings of a real photo against torchvision's float pipeline
  /// (scripts/reference/make_lite0_fixtures.py): TF's central crop for Lite0, and
  /// resize-256 / centre-crop-224 with the ImageNet mean and std.
  func testPreprocessing_matchesPyTorch() throws {
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("preprocessing_chelsea.json")))
    let reference = try XCTUnwrap(object as? [String: [String: Any]])
    let image = FloatImage(try ImageDecoder.decode(contentsOf: chelsea))
    let pipelines: [(String, Preprocessing)] = [("efficientnet_lite", .efficientNetLite()), ("torchvision", .torchvisionImageNet)]
    try withEvery("preprocessing", in: pipelines) { name, preprocessing in
      let expected = try XCTUnwrap(reference[name])
      let stride = try XCTUnwrap(expected["stride"] as? Int)
      let samples = try XCTUnwrap(expected["values"] as? [Double]).map(Float.init)
      let tensor = image.preprocessed(for: preprocessing)
      XCTAssertEqual(tensor.shape, [1, 224, 224, 3])
      let values = tensor.scalars
      let taken = Swift.stride(from: 0, to: values.count, by: stride).map { values[$0] }
      assertClose(taken, samples, relative: 0, absolute: 1e-3, name)  // of a normalised range of about ±2.5
      XCTAssertEqual(Double(values.reduce(0, +)) / Double(values.count), try XCTUnwrap(expected["mean"] as? Double), accuracy: 1e-4)
    }
  }

  private func copy(_ url: URL, as name: String) throws -> URL {
    try write(Data(contentsOf: url), as: name)
  }

  private func write(_ data: Data, as name: String) throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-img-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent(name)
    try data.write(to: url)
    return url
  }
}

final class ExifOrientationTests: XCTestCase {
  /// A 16×8 JPEG, left half red and right half blue, with an EXIF APP1 segment recording
  /// `orientation` inserted after the SOI marker.
  private func photo(orientation: Int, bigEndian: Bool) throws -> [UInt8] {
    var pixels: [UInt8] = []
    for _ in 0..<8 { for x in 0..<16 { pixels += x < 8 ? [255, 0, 0] : [0, 0, 255] } }
    let jpeg = [UInt8](try ImageEncoder.jpeg(pixels, width: 16, height: 8, quality: 100))
    func u16(_ v: Int) -> [UInt8] { bigEndian ? [UInt8(v >> 8), UInt8(v & 0xFF)] : [UInt8(v & 0xFF), UInt8(v >> 8)] }
    func u32(_ v: Int) -> [UInt8] { bigEndian ? u16(v >> 16) + u16(v & 0xFFFF) : u16(v & 0xFFFF) + u16(v >> 16) }
    let tiff = (bigEndian ? Array("MM".utf8) : Array("II".utf8)) + u16(42) + u32(8)
      + u16(1) + u16(0x0112) + u16(3) + u32(1) + u16(orientation) + u16(0) + u32(0)
    let payload = Array("Exif\0\0".utf8) + tiff
    let segment: [UInt8] = [0xFF, 0xE1, UInt8((payload.count + 2) >> 8), UInt8((payload.count + 2) & 0xFF)] + payload
    return Array(jpeg.prefix(2)) + segment + Array(jpeg.dropFirst(2))
  }

  func testOrientation6_rotatesClockwise_bothByteOrders() throws {
    for bigEndian in [false, true] {
      let bytes = try photo(orientation: 6, bigEndian: bigEndian)
      XCTAssertEqual(ExifOrientation.of(bytes), .right)
      let image = try ImageDecoder.decode(bytes, path: "portrait.jpg")
      XCTAssertEqual([image.width, image.height], [8, 16])
      XCTAssertGreaterThan(image[4, 3].0, 200, "the red left half is now on top")
      XCTAssertGreaterThan(image[4, 12].2, 200, "the blue right half is now at the bottom")
    }
  }

  func testEveryOrientation_keepsAllPixels() throws {
    let image = Image(width: 3, height: 2, pixels: (0..<18).map(UInt8.init))
    for raw in 1...8 {
      let oriented = image.oriented(ExifOrientation(rawValue: raw)!)
      XCTAssertEqual(oriented.pixels.sorted(), image.pixels.sorted(), "orientation \(raw)")
      XCTAssertEqual(oriented.width * oriented.height, 6)
    }
    // Display order of the stored pixels 0 1 2 / 3 4 5 under each orientation (EXIF 1–8).
    let expected: [Int: [Int]] = [1: [0, 1, 2, 3, 4, 5], 2: [2, 1, 0, 5, 4, 3], 3: [5, 4, 3, 2, 1, 0], 4: [3, 4, 5, 0, 1, 2],
                                  5: [0, 3, 1, 4, 2, 5], 6: [3, 0, 4, 1, 5, 2], 7: [5, 2, 4, 1, 3, 0], 8: [2, 5, 1, 4, 0, 3]]
    for (raw, order) in expected {
      let oriented = image.oriented(ExifOrientation(rawValue: raw)!)
      XCTAssertEqual(stride(from: 0, to: 18, by: 3).map { Int(oriented.pixels[$0]) / 3 }, order, "orientation \(raw)")
      XCTAssertEqual([oriented.width, oriented.height], raw >= 5 ? [2, 3] : [3, 2], "orientation \(raw)")
    }
    XCTAssertEqual(image.oriented(.mirrored)[0, 0].0, image[2, 0].0)
    XCTAssertEqual(image.oriented(.left)[0, 0].0, image[2, 0].0, "rotated counter-clockwise: the top-right corner comes to the top-left")
  }
}
