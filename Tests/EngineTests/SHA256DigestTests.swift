import Engine
import Foundation
import XCTest

final class SHA256DigestTests: XCTestCase {
  /// FIPS 180-4's test vectors, of text and of a file larger than one read.
  func testDigests_matchTheStandardTestVectors() throws {
    XCTAssertEqual(SHA256Digest.hex(of: ""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    XCTAssertEqual(SHA256Digest.hex(of: "abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    XCTAssertEqual(SHA256Digest.hex(of: "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                   "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    let million = Data(repeating: UInt8(ascii: "a"), count: 1_000_000)
    XCTAssertEqual(million.withUnsafeBytes { SHA256Digest.hex(of: $0) },
                   "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("podium-sha-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: file) }
    try Data((0..<5).flatMap { _ in million }).write(to: file)  // 5 MB: two 4 MiB reads
    // hashlib.sha256(b"a" * 5_000_000).hexdigest()
    XCTAssertEqual(try SHA256Digest.hex(ofFile: file), "7f4a285193573e707fcb6398222c00f044745cd2930e41d28d30da87d6ca183f")
  }
}
