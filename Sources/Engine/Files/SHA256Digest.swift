import Crypto
import Foundation

/// SHA-256 digests as 64 lower-case hexadecimal digits, through swift-crypto (BoringSSL's
/// assembly on Linux): weights files against the hash prefix in their names, and the keys
/// of Podium's caches and stored splits.
public enum SHA256Digest {
  /// The digest of `bytes`.
  public static func hex(of bytes: UnsafeRawBufferPointer) -> String {
    hex(Crypto.SHA256.hash(data: bytes))
  }

  /// The digest of `text`'s UTF-8 bytes.
  public static func hex(of text: String) -> String {
    hex(Crypto.SHA256.hash(data: Data(text.utf8)))
  }

  /// The digest of `text`'s UTF-8 bytes in base64, as Content-Security-Policy hashes take it.
  public static func base64(of text: String) -> String {
    Data(Crypto.SHA256.hash(data: Data(text.utf8))).base64EncodedString()
  }

  /// The digest of a file, read in 4 MiB pieces.
  ///
  /// - Throws: the error of opening or reading the file.
  public static func hex(ofFile url: URL) throws -> String {
    let handle = try FileHandle(forReadingFrom: url)
    defer { try? handle.close() }
    var hasher = Crypto.SHA256()
    while let chunk = try handle.read(upToCount: 4 << 20), !chunk.isEmpty {
      hasher.update(data: chunk)
    }
    return hex(hasher.finalize())
  }

  /// The digest of a file, computed once per process for each path, size and modification
  /// time (a file rewritten in place is hashed again).
  public static func rememberedHex(ofFile url: URL) throws -> String {
    var status = stat()
    guard stat(url.path, &status) == 0 else { return try hex(ofFile: url) }
    let key = "\(url.standardizedFileURL.path)|\(status.st_size)|\(status.st_mtim.tv_sec).\(status.st_mtim.tv_nsec)"
    if let known = rememberedLock.withLock({ remembered[key] }) { return known }
    let digest = try hex(ofFile: url)
    rememberedLock.withLock { remembered[key] = digest }
    return digest
  }

  nonisolated(unsafe) private static var remembered: [String: String] = [:]
  private static let rememberedLock = NSLock()

  private static func hex(_ digest: Crypto.SHA256.Digest) -> String {
    digest.map { String(format: "%02x", $0) }.joined()
  }
}
