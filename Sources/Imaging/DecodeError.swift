/// An image file Podium cannot use, with the reason; its description is one line naming
/// the file: `cannot decode photos/cat.jpg: GIF images are not supported`.
public struct DecodeError: Error, CustomStringConvertible, Equatable {
  /// Why decoding failed.
  public enum Reason: Equatable, Sendable {
    /// A recognised format Podium does not decode (GIF, BMP, WebP, ...).
    case unsupportedFormat(String)
    /// Neither a JPEG nor a PNG by its content.
    case notAnImage
    /// The codec rejected the data (truncated, corrupt), with its message.
    case corrupt(String)
    /// More pixels than the limit (a decompression bomb).
    case tooLarge(width: Int, height: Int, limit: Int)
    /// A file larger than the limit, refused before it is read.
    case fileTooLarge(bytes: Int, limit: Int)
    /// The file could not be read.
    case unreadable(String)
  }

  public var path: String
  public var reason: Reason

  public init(path: String, reason: Reason) {
    (self.path, self.reason) = (path, reason)
  }

  public var description: String { "cannot decode \(path): \(detail)" }

  /// The reason in words, without the path.
  public var detail: String {
    switch reason {
    case .unsupportedFormat(let format): return "\(format) images are not supported (JPEG and PNG are)"
    case .notAnImage: return "not a JPEG or PNG image"
    case .corrupt(let message): return "corrupt image: \(message)"
    case let .tooLarge(width, height, limit): return "\(width)x\(height) pixels exceeds the limit of \(limit)"
    case let .fileTooLarge(bytes, limit): return "file of \(bytes) bytes exceeds the limit of \(limit) bytes"
    case .unreadable(let message): return message
    }
  }
}
