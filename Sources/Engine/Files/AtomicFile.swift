import Foundation

/// Writes files so that a reader sees either the old content or the complete new one.
///
/// The bytes go to a temporary file beside the target, are synced to disk, and the file is
/// renamed over the target. Every write is checked (Foundation's `FileHandle.write(_:)`
/// traps on Linux when the disk is full; `write(contentsOf:)` throws), and the temporary
/// file is removed whenever anything fails, so a full disk leaves the old file and nothing
/// else behind.
public enum AtomicFile {
  /// Calls `body` with a handle on a temporary file beside `url` (its folder created if
  /// needed), syncs it, then renames it over `url`.
  ///
  /// - Throws: ``FileWriteError`` naming `url`, or what `body` throws.
  public static func write(to url: URL, _ body: (FileHandle) throws -> Void) throws {
    let folder = url.deletingLastPathComponent()
    let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
    do {
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
        throw FileWriteError(path: url.path, reason: "cannot create \(temporary.lastPathComponent): \(String(cString: strerror(errno)))")
      }
      let handle = try FileHandle(forWritingTo: temporary)
      defer { try? handle.close() }
      try body(handle)
      try handle.synchronize()
      guard rename(temporary.path, url.path) == 0 else {
        throw FileWriteError(path: url.path, reason: "cannot rename \(temporary.lastPathComponent) over it: \(String(cString: strerror(errno)))")
      }
    } catch {
      try? FileManager.default.removeItem(at: temporary)
      if error is FileWriteError { throw error }
      throw FileWriteError(path: url.path, reason: FileWriteError.describe(error))
    }
  }

  /// Writes `data` to `url`.
  public static func write(_ data: Data, to url: URL) throws {
    try write(to: url) { try $0.write(contentsOf: data) }
  }

  /// Writes `text` as UTF-8 to `url`.
  public static func write(_ text: String, to url: URL) throws {
    try write(Data(text.utf8), to: url)
  }
}

/// A file that could not be written: one line naming it and the system's reason,
/// `cannot write runs/3/last.safetensors: No space left on device`.
public struct FileWriteError: Error, CustomStringConvertible, Equatable {
  /// The file, as given.
  public var path: String
  /// What went wrong, in words.
  public var reason: String

  public init(path: String, reason: String) {
    (self.path, self.reason) = (path, reason)
  }

  public var description: String { "cannot write \(path): \(reason)" }

  /// The system's words for a Foundation or POSIX error (`No space left on device`).
  static func describe(_ error: any Error) -> String {
    let nsError = error as NSError
    if let posix = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
      return String(cString: strerror(Int32(posix.code)))
    }
    if nsError.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(nsError.code))) }
    return "\(error)"
  }
}
