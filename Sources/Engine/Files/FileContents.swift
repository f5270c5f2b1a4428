import Foundation

/// Whole files read into memory through a file handle.
///
/// swift-foundation's `Data(contentsOf:)` on Linux (Swift 6.3.1) leaks a 4 KiB buffer each
/// time it reads an empty file — the fuzzers found it through an empty labels CSV and an
/// empty answers file — and Podium reads whatever files users give it, empty ones included.
public enum FileContents {
  /// The bytes of the file at `url`.
  ///
  /// - Throws: the error of opening or reading the file.
  public static func data(of url: URL) throws -> Data {
    let handle = try FileHandle(forReadingFrom: url)
    defer { try? handle.close() }
    return try handle.readToEnd() ?? Data()
  }

  /// The file at `url` as UTF-8 text (invalid sequences replaced).
  public static func text(of url: URL) throws -> String {
    String(decoding: try data(of: url), as: UTF8.self)
  }
}
