import Foundation
import XCTest

/// A tmpfs of a few MiB mounted on a fresh folder, for disk-full tests. Mounting needs
/// root (as `.ci/run` runs); elsewhere the test is skipped, saying why.
public struct TinyFileSystem {
  /// The mounted folder.
  public let folder: URL

  /// Mounts a tmpfs of `megabytes` MiB, or throws `XCTSkip` where mounting is not allowed.
  public init(megabytes: Int) throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-full-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    guard Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", folder.path]) else {
      try? FileManager.default.removeItem(at: folder)
      throw XCTSkip("cannot mount a tmpfs here (needs root): disk-full behaviour not checked")
    }
  }

  /// Unmounts the file system and removes its folder.
  public func unmount() {
    _ = Self.run("/bin/umount", [folder.path])
    try? FileManager.default.removeItem(at: folder)
  }

  private static func run(_ tool: String, _ arguments: [String]) -> Bool {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = arguments
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return false }
    process.waitUntilExit()
    return process.terminationStatus == 0
  }
}
