import CImageCodecs
import Engine
import Foundation

/// Decodes JPEG and PNG files, recognised by their content (magic bytes), not their
/// extension: a PNG named `.jpg` decodes, a GIF named `.jpg` is refused as unsupported.
public enum ImageDecoder {
  /// The default pixel limit: 100 megapixels (a 10000×10000 photo).
  public static let defaultMaxPixels = 100_000_000

  /// The default file-size limit: 512 MiB, above any JPEG or PNG of ``defaultMaxPixels``
  /// (an uncompressed 100-megapixel PNG is 300 MB), so a huge file is refused before it is
  /// read into memory.
  public static let defaultMaxFileBytes = 512 << 20

  /// The container format of `bytes`, judged by its first bytes.
  public enum Format: String, Sendable {
    case jpeg = "JPEG", png = "PNG", gif = "GIF", bmp = "BMP", webp = "WebP", tiff = "TIFF"
  }

  /// Recognises a format from the first bytes of a file.
  public static func format(of bytes: [UInt8]) -> Format? {
    func starts(_ prefix: [UInt8]) -> Bool { bytes.count >= prefix.count && Array(bytes.prefix(prefix.count)) == prefix }
    if starts([0xFF, 0xD8, 0xFF]) { return .jpeg }
    if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
    if starts(Array("GIF8".utf8)) { return .gif }
    if starts(Array("BM".utf8)) { return .bmp }
    if starts(Array("RIFF".utf8)), bytes.count >= 12, Array(bytes[8..<12]) == Array("WEBP".utf8) { return .webp }
    if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return .tiff }
    return nil
  }

  /// Width and height read from a JPEG's frame header or a PNG's IHDR chunk, without
  /// decoding; nil when the header is missing or malformed.
  public static func dimensions(of bytes: [UInt8]) -> (width: Int, height: Int)? {
    switch format(of: bytes) {
    case .png?:
      guard bytes.count >= 24 else { return nil }
      func word(_ i: Int) -> Int { Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3]) }
      return (word(16), word(20))
    case .jpeg?:
      var i = 2
      while i + 9 < bytes.count {
        guard bytes[i] == 0xFF else { return nil }
        let marker = bytes[i + 1]
        let length = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
        // SOF0…SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
        if (0xC0...0xCF).contains(marker) && ![0xC4, 0xC8, 0xCC].contains(marker) {
          return (Int(bytes[i + 7]) << 8 | Int(bytes[i + 8]), Int(bytes[i + 5]) << 8 | Int(bytes[i + 6]))
        }
        i += 2 + length
      }
      return nil
    default:
      return nil
    }
  }

  /// Decodes the file at `url` to RGB, upright (a JPEG's EXIF orientation applied).
  ///
  /// - Parameter scaleDenominator: JPEG only: libjpeg's DCT-domain down-scaling by 1/N
  ///   (1, 2, 4 or 8), much faster than decoding at full size when the target is small.
  /// - Throws: ``DecodeError`` naming the file.
  public static func decode(contentsOf url: URL, scaleDenominator: Int = 1, maxPixels: Int = defaultMaxPixels,
                            maxFileBytes: Int = defaultMaxFileBytes) throws -> Image {
    if let size = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? Int, size > maxFileBytes {
      throw DecodeError(path: url.path, reason: .fileTooLarge(bytes: size, limit: maxFileBytes))
    }
    let data: Data
    do { data = try FileContents.data(of: url) } catch {
      throw DecodeError(path: url.path, reason: .unreadable(FileManager.default.fileExists(atPath: url.path) ? "unreadable" : "no such file"))
    }
    return try decode([UInt8](data), path: url.path, scaleDenominator: scaleDenominator, maxPixels: maxPixels)
  }

  /// Decodes in-memory file bytes; `path` only names them in errors.
  public static func decode(_ bytes: [UInt8], path: String, scaleDenominator: Int = 1, maxPixels: Int = defaultMaxPixels) throws -> Image {
    guard let format = format(of: bytes) else { throw DecodeError(path: path, reason: .notAnImage) }
    var result = CImageCodecs_Image()
    let status: CImageCodecs_Status = bytes.withUnsafeBufferPointer { buffer in
      switch format {
      case .jpeg: return CImageCodecs_decodeJPEG(buffer.baseAddress, buffer.count, Int32(scaleDenominator), maxPixels, &result)
      case .png: return CImageCodecs_decodePNG(buffer.baseAddress, buffer.count, maxPixels, &result)
      default: return CImageCodecs_corrupt
      }
    }
    defer { CImageCodecs_free(&result) }
    guard format == .jpeg || format == .png else { throw DecodeError(path: path, reason: .unsupportedFormat(format.rawValue)) }
    switch status {
    case CImageCodecs_ok:
      let count = Int(result.width) * Int(result.height) * 3
      let image = Image(width: Int(result.width), height: Int(result.height),
                        pixels: Array(UnsafeBufferPointer(start: result.pixels, count: count)))
      return format == .jpeg ? image.oriented(ExifOrientation.of(bytes)) : image
    case CImageCodecs_tooLarge:
      throw DecodeError(path: path, reason: .tooLarge(width: Int(result.sourceWidth), height: Int(result.sourceHeight), limit: maxPixels))
    case CImageCodecs_outOfMemory:
      throw DecodeError(path: path, reason: .corrupt("out of memory"))
    default:
      let message = withUnsafeBytes(of: result.message) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
      throw DecodeError(path: path, reason: .corrupt(message))
    }
  }
}
