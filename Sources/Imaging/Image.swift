/// An 8-bit RGB image, rows top to bottom, pixels `R, G, B` interleaved.
public struct Image: Equatable, Sendable {
  public let width: Int
  public let height: Int
  /// `width · height · 3` bytes, row-major.
  public var pixels: [UInt8]

  /// Creates an image from packed RGB bytes.
  ///
  /// - Precondition: `pixels.count == width · height · 3`.
  public init(width: Int, height: Int, pixels: [UInt8]) {
    precondition(pixels.count == width * height * 3, "\(pixels.count) bytes do not fill a \(width)x\(height) RGB image")
    (self.width, self.height, self.pixels) = (width, height, pixels)
  }

  /// The `(r, g, b)` of pixel `(x, y)` (slow; for tests).
  public subscript(x: Int, y: Int) -> (UInt8, UInt8, UInt8) {
    let i = (y * width + x) * 3
    return (pixels[i], pixels[i + 1], pixels[i + 2])
  }
}
