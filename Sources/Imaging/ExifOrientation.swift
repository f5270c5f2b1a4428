/// The EXIF orientation of a JPEG (tag 0x0112 in the APP1 "Exif" segment), which cameras
/// write instead of rotating the pixels; Podium applies it at decode so a portrait photo
/// stays upright. Reference: EXIF 2.32 (CIPA DC-008), section 4.6.4, tag Orientation.
public enum ExifOrientation: Int, Sendable {
  case up = 1, mirrored = 2, down = 3, downMirrored = 4
  case leftMirrored = 5, right = 6, rightMirrored = 7, left = 8

  /// The orientation recorded in a JPEG's bytes, or `.up` when there is none.
  public static func of(_ bytes: [UInt8]) -> ExifOrientation {
    var i = 2
    while i + 4 <= bytes.count, bytes[i] == 0xFF {
      let marker = bytes[i + 1], length = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
      if marker == 0xDA || length < 2 { break }  // start of scan: no more metadata
      if marker == 0xE1, i + 4 + length - 2 <= bytes.count,
        let value = orientation(in: Array(bytes[(i + 4)..<(i + 2 + length)]))
      {
        return value
      }
      i += 2 + length
    }
    return .up
  }

  /// Reads tag 0x0112 from an APP1 payload (`Exif\0\0` + TIFF header + IFD0).
  private static func orientation(in payload: [UInt8]) -> ExifOrientation? {
    guard payload.count >= 14, Array(payload[0..<6]) == Array("Exif\0\0".utf8) else { return nil }
    let tiff = Array(payload[6...])
    let littleEndian = tiff[0] == 0x49
    func read(_ offset: Int, _ size: Int) -> Int? {
      guard offset >= 0, offset + size <= tiff.count else { return nil }
      let bytes = tiff[offset..<(offset + size)]
      return (littleEndian ? bytes.reversed() : Array(bytes)).reduce(0) { $0 << 8 | Int($1) }
    }
    guard let ifd = read(4, 4), let count = read(ifd, 2) else { return nil }
    for entry in 0..<min(count, 512) {
      let at = ifd + 2 + 12 * entry
      guard let tag = read(at, 2) else { return nil }
      if tag == 0x0112, let value = read(at + 8, 2) { return ExifOrientation(rawValue: value) }
    }
    return nil
  }
}

extension Image {
  /// The image as it should be displayed under `orientation`.
  ///
  /// Every orientation maps display positions to stored ones affinely, so the copy walks
  /// the stored pixels with two constant steps (one per display column, one per row) read
  /// off the mapping at three points, through raw pointers.
  public func oriented(_ orientation: ExifOrientation) -> Image {
    guard orientation != .up else { return self }
    let transposed = orientation.rawValue >= 5
    let (w, h) = transposed ? (height, width) : (width, height)
    let offset = { (point: (Int, Int)) in (point.1 * self.width + point.0) * 3 }
    let start = offset(source(0, 0, w, h, orientation))
    let (stepX, stepY) = (offset(source(1, 0, w, h, orientation)) - start, offset(source(0, 1, w, h, orientation)) - start)
    let out = [UInt8](unsafeUninitializedCapacity: pixels.count) { buffer, initialized in
      pixels.withUnsafeBufferPointer { stored in
        guard let from = stored.baseAddress, var to = buffer.baseAddress else { return }
        for y in 0..<h {
          var pixel = from + start + y * stepY
          for _ in 0..<w {
            to[0] = pixel[0]
            to[1] = pixel[1]
            to[2] = pixel[2]
            to += 3
            pixel += stepX
          }
        }
      }
      initialized = pixels.count
    }
    return Image(width: w, height: h, pixels: out)
  }

  /// The stored pixel shown at display position `(x, y)` of a `w × h` display.
  private func source(_ x: Int, _ y: Int, _ w: Int, _ h: Int, _ orientation: ExifOrientation) -> (Int, Int) {
    switch orientation {
    case .up: return (x, y)
    case .mirrored: return (w - 1 - x, y)
    case .down: return (w - 1 - x, h - 1 - y)
    case .downMirrored: return (x, h - 1 - y)
    case .leftMirrored: return (y, x)
    case .right: return (y, w - 1 - x)
    case .rightMirrored: return (h - 1 - y, w - 1 - x)
    case .left: return (h - 1 - y, x)
    }
  }
}
