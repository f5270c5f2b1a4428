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
    for pointer in both + [tooSmall] { pointer.deallocate() }
  }
}
