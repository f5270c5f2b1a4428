import CImageCodecs
import Foundation

/// Encodes images as JPEG or PNG files: for generated datasets and test fixtures that
/// reproduce what real downloads contain (greyscale and CMYK JPEGs, PNGs with alpha or a
/// palette).
public enum ImageEncoder {
  /// Pixel layouts the encoders accept.
  public enum JPEGColour: Sendable {
    case grey, rgb, cmyk
    /// CMYK bytes stored in the YCCK colour space (Adobe transform 2, as Photoshop saves).
    case ycck

    /// Bytes per input pixel.
    public var components: Int { [.grey: 1, .rgb: 3, .cmyk: 4, .ycck: 4][self]! }
  }
  public enum PNGColour: Sendable { case grey, greyAlpha, rgb, rgba, palette }

  /// An encoding failure (a palette with more than 256 colours, say).
  public struct Failure: Error, CustomStringConvertible {
    public var description: String
  }

  /// A JPEG of `pixels` packed as `colour` (1, 3 or 4 bytes per pixel).
  public static func jpeg(_ pixels: [UInt8], width: Int, height: Int, colour: JPEGColour = .rgb, quality: Int = 90) throws -> Data {
    precondition(pixels.count == width * height * colour.components, "\(pixels.count) bytes do not fill \(width)x\(height) \(colour)")
    var encoded = CImageCodecs_Encoded()
    defer { CImageCodecs_freeEncoded(&encoded) }
    let status = CImageCodecs_encodeJPEG(pixels, Int32(width), Int32(height), Int32(colour.components), colour == .ycck ? 1 : 0,
                                         Int32(quality), &encoded)
    return try result(status, encoded)
  }

  /// A PNG of `pixels` packed as `colour` (1–4 bytes per pixel; RGB for `.palette`).
  public static func png(_ pixels: [UInt8], width: Int, height: Int, colour: PNGColour = .rgb) throws -> Data {
    let channels: Int32 = [.grey: 1, .greyAlpha: 2, .rgb: 3, .rgba: 4, .palette: 3][colour]!
    precondition(pixels.count == width * height * Int(channels), "\(pixels.count) bytes do not fill \(width)x\(height) \(colour)")
    var encoded = CImageCodecs_Encoded()
    defer { CImageCodecs_freeEncoded(&encoded) }
    let status = CImageCodecs_encodePNG(pixels, Int32(width), Int32(height), channels, colour == .palette ? 1 : 0, &encoded)
    return try result(status, encoded)
  }

  /// A PNG or JPEG of an RGB image.
  public static func encode(_ image: Image, asPNG: Bool) throws -> Data {
    asPNG ? try png(image.pixels, width: image.width, height: image.height)
      : try jpeg(image.pixels, width: image.width, height: image.height)
  }

  private static func result(_ status: CImageCodecs_Status, _ encoded: CImageCodecs_Encoded) throws -> Data {
    guard status == CImageCodecs_ok, let bytes = encoded.bytes else {
      let message = withUnsafeBytes(of: encoded.message) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
      throw Failure(description: "cannot encode image: \(message)")
    }
    return Data(bytes: bytes, count: encoded.size)
  }
}
