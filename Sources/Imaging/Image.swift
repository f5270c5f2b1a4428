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

  /// The rectangle `[x, x + width) × [y, y + height)`.
  ///
  /// - Precondition: the rectangle lies inside the image.
  public func cropped(x: Int, y: Int, width w: Int, height h: Int) -> Image {
    precondition(x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= width && y + h <= height,
                 "crop \(w)x\(h)+\(x)+\(y) is outside a \(width)x\(height) image")
    var out = [UInt8](repeating: 0, count: w * h * 3)
    for row in 0..<h {
      let source = ((y + row) * width + x) * 3
      out.replaceSubrange((row * w * 3)..<((row + 1) * w * 3), with: pixels[source..<(source + w * 3)])
    }
    return Image(width: w, height: h, pixels: out)
  }

  /// The central `w × h` rectangle, offset as torchvision's `center_crop` rounds it.
  public func centerCropped(width w: Int, height h: Int) -> Image {
    let x = Int((Double(width - w) / 2).rounded()), y = Int((Double(height - h) / 2).rounded())
    return cropped(x: x, y: y, width: w, height: h)
  }
}
