@testable import Engine
import XCTest

/// The pool hands a request an idle block of its size, else one up to twice as large, and
/// takes every block back under its own size.
final class StoragePoolTests: XCTestCase {
  func testARequestTakesAnIdleBlockUpToTwiceItsSize_whichReturnsUnderItsOwnSize() {
    let pool = StoragePool(idleLimit: 1 << 30)
    let megabyte = 1 << 20, small = (1 << 19) - 4096, half = (1 << 19) + 4096
    let block = pool.allocate(byteCount: megabyte)
    pool.release(block, byteCount: megabyte)

    let tooSmall = pool.allocate(byteCount: small)
    XCTAssertNotEqual(tooSmall, block, "a block more than twice the request stays idle")
    let reused = pool.allocate(byteCount: half)
    XCTAssertEqual(reused, block, "a block up to twice the request is reused")
    let fresh = pool.allocate(byteCount: megabyte)
    XCTAssertNotEqual(fresh, block, "the block is in use")
    pool.release(reused, byteCount: half)
    pool.release(fresh, byteCount: megabyte)
    let both = [pool.allocate(byteCount: megabyte), pool.allocate(byteCount: megabyte)]
    XCTAssertEqual(Set(both), [block, fresh], "the reused block came back as a 1 MiB block")
    for pointer in both { MemoryBlocks.free(pointer, byteCount: megabyte) }
    MemoryBlocks.free(tooSmall, byteCount: small)
  }

  /// A block from 4 MiB up starts on a 2 MiB boundary, in a mapping of its own that the kernel
  /// may back with huge pages (`THPeligible: 1` in `/proc/self/smaps` wherever transparent huge
  /// pages are not switched off), and holds what is written to all of it.
  func testLargeBlocksAreMappedForHugePages() throws {
    let pool = StoragePool(idleLimit: 0)
    let byteCount = 5 << 20 + 4096
    let block = pool.allocate(byteCount: byteCount)
    defer { pool.release(block, byteCount: byteCount) }
    XCTAssertEqual(Int(bitPattern: block) % (2 << 20), 0)
    let floats = block.bindMemory(to: Float.self, capacity: byteCount / 4)
    for i in stride(from: 0, to: byteCount / 4, by: 1021) { floats[i] = Float(i) }
    floats[byteCount / 4 - 1] = -1
    XCTAssertEqual(floats[1021 * 1000], 1_021_000)
    XCTAssertEqual(floats[byteCount / 4 - 1], -1)

    let mode = try String(contentsOfFile: "/sys/kernel/mm/transparent_hugepage/enabled", encoding: .utf8)
    let mapping = try XCTUnwrap(smapsFields(ofMappingHolding: block), "no mapping holds the block")
    // Neighbouring blocks marked alike may share one mapping; it is never smaller than the block.
    XCTAssertGreaterThanOrEqual(Int(mapping["Size"]?.split(separator: " ").first ?? "") ?? 0, 6144, "\(mapping)")
    if !mode.contains("[never]") {
      XCTAssertEqual(mapping["THPeligible"], "1", "not marked for huge pages: \(mapping)")
    }
  }

  /// The fields (`Size` → `6144 kB`, `THPeligible` → `1`, …) of the `/proc/self/smaps` entry
  /// of the mapping that holds `address`.
  private func smapsFields(ofMappingHolding address: UnsafeMutableRawPointer) throws -> [String: String]? {
    // /proc files report size 0: read to the end rather than by size.
    let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/self/smaps"))
    defer { try? handle.close() }
    let smaps = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
    let target = UInt(bitPattern: address)
    var fields: [String: String]?
    for line in smaps.split(separator: "\n") {
      let range = line.split(separator: " ").first?.split(separator: "-")
      if let range, range.count == 2, let low = UInt(range[0], radix: 16), let high = UInt(range[1], radix: 16) {
        if fields != nil { break }
        if (low..<high).contains(target) { fields = [:] }
      } else if fields != nil, let colon = line.firstIndex(of: ":") {
        fields![String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
      }
    }
    return fields
  }
}
