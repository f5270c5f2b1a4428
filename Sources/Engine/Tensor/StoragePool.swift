import Foundation

/// Recycles large memory blocks, so a training or inference step reuses the previous step's
/// activation buffers instead of asking the allocator again.
///
/// Without it, every layer's output is a fresh multi-megabyte `malloc`, which glibc serves
/// with `mmap` and returns with `munmap`: each step then page-faults and zeroes all of its
/// activations again (measured: over half of MobileNetV2's inference time). A request takes
/// an idle block of its exact size, else the smallest idle block up to twice as large (so the trained top
/// of a fine-tuned network lives in blocks its frozen stages left idle, rather than in new
/// memory beside them), else a new one; a block goes back under its own size. Blocks below
/// 64 KiB go straight to the allocator. The pool keeps at most `PODIUM_POOL_MB` megabytes
/// (default 4096) of idle blocks; beyond that, blocks are freed.
final class StoragePool: @unchecked Sendable {
  static let shared = StoragePool()
  static let minimumBytes = 1 << 16
  static let alignment = 64

  private var idle: [Int: [UnsafeMutableRawPointer]] = [:]
  private var idleBytes = 0
  /// The size of each block handed out for a smaller request.
  private var largerBlocks: [UnsafeMutableRawPointer: Int] = [:]
  private let limit: Int
  private let lock = NSLock()

  private convenience init() {
    let megabytes = ProcessInfo.processInfo.environment["PODIUM_POOL_MB"].flatMap { Int($0) } ?? 4096
    self.init(idleLimit: max(0, megabytes) << 20)
  }

  /// A pool that keeps at most `idleLimit` bytes of idle blocks (tests make their own).
  init(idleLimit: Int) { limit = idleLimit }

  /// A block of `byteCount` bytes, 64-byte aligned, uninitialised.
  func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
    if byteCount >= Self.minimumBytes {
      lock.lock()
      defer { lock.unlock() }
      if let block = idle[byteCount]?.popLast() {
        idleBytes -= byteCount
        return block
      }
      // At most twice the request: a much larger block is likelier to be needed at its own size soon.
      if let size = idle.lazy.filter({ $0.key > byteCount && $0.key <= 2 * byteCount && !$0.value.isEmpty }).map(\.key).min(),
        let block = idle[size]?.popLast() {
        idleBytes -= size
        largerBlocks[block] = size
        return block
      }
    }
    return UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: Self.alignment)
  }

  /// Returns a block from ``allocate(byteCount:)``; it is kept for reuse or freed.
  func release(_ block: UnsafeMutableRawPointer, byteCount: Int) {
    if byteCount >= Self.minimumBytes {
      lock.lock()
      let size = largerBlocks.removeValue(forKey: block) ?? byteCount
      let keep = idleBytes + size <= limit
      if keep {
        idle[size, default: []].append(block)
        idleBytes += size
      }
      lock.unlock()
      if keep { return }
    }
    block.deallocate()
  }
}

/// A scratch buffer of `count` values from the pool, valid inside `body` only.
func withScratch<R>(_ type: Float.Type = Float.self, count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
  let bytes = max(count, 1) * MemoryLayout<Float>.stride
  let raw = StoragePool.shared.allocate(byteCount: bytes)
  defer { StoragePool.shared.release(raw, byteCount: bytes) }
  return try body(raw.bindMemory(to: Float.self, capacity: max(count, 1)))
}
