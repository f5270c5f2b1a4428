import Engine
import Foundation
import Imaging

/// Small JPEG previews embedded in a report as `data:` URIs, so the page needs no other file.
public enum Thumbnail {
  /// The image at `url` fitted into a `side × side` box (aspect kept, area-averaged) as a
  /// JPEG data URI; nil when the file is gone or unreadable.
  public static func dataURI(of url: URL, side: Int = 112) -> String? {
    guard let bytes = try? [UInt8](FileContents.data(of: url)), let size = ImageDecoder.dimensions(of: bytes) else { return nil }
    let scale = max(1, min(8, min(size.width, size.height) / (side * 2)))
    let denominator = [8, 4, 2, 1].first { $0 <= scale } ?? 1
    guard let image = try? ImageDecoder.decode(bytes, path: url.path, scaleDenominator: denominator) else { return nil }
    let ratio = Double(side) / Double(max(image.width, image.height))
    let (width, height) = (max(1, Int(Double(image.width) * ratio)), max(1, Int(Double(image.height) * ratio)))
    let small = ratio < 1 ? FloatImage(image).resized(width: width, height: height, filter: .area).rounded() : image
    guard let jpeg = try? ImageEncoder.encode(small, asPNG: false) else { return nil }
    return "data:image/jpeg;base64," + jpeg.base64EncodedString()
  }

  /// PNG bytes of an RGB image as a data URI.
  public static func dataURI(png image: Image) throws -> String {
    "data:image/png;base64," + (try ImageEncoder.encode(image, asPNG: true)).base64EncodedString()
  }
}
