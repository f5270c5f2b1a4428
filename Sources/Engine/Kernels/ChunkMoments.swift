/// The per-channel moments of a tensor that a kernel writes chunk by chunk, each chunk's
/// summed while it is still in cache, so a batch norm after the kernel needs no pass of its
/// own over the tensor to find its batch statistics.
///
/// The kernel calls ``reserve(chunks:)`` with its number of chunks, then ``record(_:rows:of:)``
/// once for each, from any worker; ``statistics`` merges them in chunk order, so the result
/// does not depend on which worker ran which chunk.
final class ChunkMoments {
  let channels: Int
  /// One element per chunk, written by whichever worker runs it: a buffer, not an array
  /// property, so concurrent writes to distinct elements are no overlapping accesses.
  private var chunks = UnsafeMutableBufferPointer<ChannelMoments>(start: nil, count: 0)

  init(channels: Int) { self.channels = channels }

  deinit { release() }

  /// Makes room for `count` chunks, forgetting any recorded.
  func reserve(chunks count: Int) {
    release()
    chunks = .allocate(capacity: count)
    chunks.initialize(repeating: ChannelMoments(channels: channels))
  }

  /// True once a kernel has reserved its chunks.
  var isReserved: Bool { chunks.baseAddress != nil }

  /// Records chunk `index`: `rows` rows of ``channels`` values at `x`. Workers record
  /// distinct chunks concurrently.
  func record(_ index: Int, rows: Int, of x: UnsafePointer<Float>) {
    chunks[index].add(rows: rows, of: x)
  }

  /// The mean and biased variance over every chunk.
  var statistics: (mean: [Float], variance: [Float]) {
    var total = ChannelMoments(channels: channels)
    for chunk in chunks { total.merge(chunk) }
    return total.statistics
  }

  private func release() {
    guard chunks.baseAddress != nil else { return }
    _ = chunks.deinitialize()
    chunks.deallocate()
  }
}
