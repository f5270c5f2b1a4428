/// The heap block behind a ``Tensor``: `count` Float32 values, 64-byte aligned so that
/// vector loads never straddle a cache line, recycled through ``StoragePool``.
///
/// Storage is a reference type; ``Tensor`` gives it value semantics by copying on write.
public final class TensorStorage {
  /// The first value. Valid for `count` elements until the storage is freed.
  public let baseAddress: UnsafeMutablePointer<Float>
  /// Number of Float32 values.
  public let count: Int

  /// Allocates uninitialised storage for `count` values.
  init(uninitializedCount count: Int) {
    precondition(count >= 0, "a tensor cannot hold \(count) values")
    let raw = StoragePool.shared.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride)
    baseAddress = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    self.count = count
  }

  /// Allocates storage with every value set to `value`.
  convenience init(count: Int, repeating value: Float) {
    self.init(uninitializedCount: count)
    baseAddress.initialize(repeating: value, count: count)
  }

  /// A new storage holding the same values.
  func copy() -> TensorStorage {
    let result = TensorStorage(uninitializedCount: count)
    result.baseAddress.update(from: baseAddress, count: count)
    return result
  }

  deinit {
    StoragePool.shared.release(UnsafeMutableRawPointer(baseAddress), byteCount: max(count, 1) * MemoryLayout<Float>.stride)
  }
}
