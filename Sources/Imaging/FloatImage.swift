/// An RGB image with Float32 values, rows top to bottom, channels interleaved: the working
/// form between decoding and the network, so resizing and cropping round nothing.
public struct FloatImage: Equatable, Sendable {
  public let width: Int
  public let height: Int
  /// `width · height · 3` values, row-major, on the 0–255 scale until normalised.
  public var values: [Float]

  public init(width: Int, height: Int, values: [Float]) {
    precondition(values.count == width * height * 3, "\(values.count) values do not fill a \(width)x\(height) RGB image")
    (self.width, self.height, self.values) = (width, height, values)
  }

  /// The 8-bit image's values as floats (0–255).
  public init(_ image: Image) {
    let count = image.pixels.count
    let converted = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
      image.pixels.withUnsafeBufferPointer { source in
        for i in 0..<count { buffer[i] = Float(source[i]) }
      }
      initialized = count
    }
    self.init(width: image.width, height: image.height, values: converted)
  }

  /// The rectangle `[x, x + w) × [y, y + h)`.
  public func cropped(x: Int, y: Int, width w: Int, height h: Int) -> FloatImage {
    precondition(x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= width && y + h <= height,
                 "crop \(w)x\(h)+\(x)+\(y) is outside a \(width)x\(height) image")
    var out = [Float]()
    out.reserveCapacity(w * h * 3)
    for row in 0..<h {
      let source = ((y + row) * width + x) * 3
      out += values[source..<(source + w * 3)]
    }
    return FloatImage(width: w, height: h, values: out)
  }

  /// The central `w × h` rectangle, offset as torchvision's `center_crop` rounds it.
  public func centerCropped(width w: Int, height h: Int) -> FloatImage {
    cropped(x: Int((Double(width - w) / 2).rounded()), y: Int((Double(height - h) / 2).rounded()), width: w, height: h)
  }

  /// `(value − mean[c]) / std[c]` per channel.
  public func normalized(mean: [Float], std: [Float]) -> FloatImage {
    let scale = std.map { 1 / $0 }, shift = zip(mean, std).map { -$0 / $1 }
    var out = values
    out.withUnsafeMutableBufferPointer { buffer in
      for pixel in 0..<(buffer.count / 3) {
        for c in 0..<3 { buffer[3 * pixel + c] = buffer[3 * pixel + c] * scale[c] + shift[c] }
      }
    }
    return FloatImage(width: width, height: height, values: out)
  }
}
