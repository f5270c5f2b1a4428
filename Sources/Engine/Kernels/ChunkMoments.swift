/// The per-channel moments of a tensor that a kernel writes chunk by chunk, each chunk's
/// summed while it is still in cache, so a batch norm after the kernel needs no pass of its
/// own over the tensor to find its batch statistics.
///
/// The kernel calls ``reserve(chunks:rowsPerChunk:)``, then ``record(_:rows:of:)`` once for
/// each chunk, from any worker; ``statistics`` merges them in chunk order, so the result does
/// not depend on which worker ran which chunk.
final class ChunkMoments {
  let channels: Int
  /// Slots of up to ``reductionBlockRows`` rows each, ``slotsPerChunk`` to a chunk: per slot
  /// its row count, and its mean and squared deviations as ``ChannelKernels/blockMoments``
  /// leaves them. Buffers, not array properties, so workers writing distinct slots make no
  /// overlapping accesses, and nothing is allocated per chunk.
  private var counts = UnsafeMutableBufferPointer<Int>(start: nil, count: 0)
  private var moments = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
  private var slotsPerChunk = 1

  init(channels: Int) { self.channels = channels }

  deinit { release() }

  /// True once a kernel has reserved its chunks.
  var isReserved: Bool { counts.baseAddress != nil }

  /// Makes room for `chunks` chunks of at most `rowsPerChunk` rows, forgetting any recorded.
  func reserve(chunks: Int, rowsPerChunk: Int) {
    release()
    slotsPerChunk = max(1, (rowsPerChunk + reductionBlockRows - 1) / reductionBlockRows)
    counts = .allocate(capacity: chunks * slotsPerChunk)
    counts.initialize(repeating: 0)
    moments = .allocate(capacity: counts.count * 2 * channels)
    moments.initialize(repeating: 0)
  }

  /// Records chunk `index`: `rows` rows (at most the reserved `rowsPerChunk`) of ``channels``
  /// values at `x`. Workers record distinct chunks concurrently.
  func record(_ index: Int, rows: Int, of x: UnsafePointer<Float>) {
    precondition(rows <= slotsPerChunk * reductionBlockRows, "a chunk of \(rows) rows is larger than reserved")
    let c = channels, kernels = ChannelKernels.active
    for (offset, start) in stride(from: 0, to: rows, by: reductionBlockRows).enumerated() {
      let slot = index * slotsPerChunk + offset, count = min(reductionBlockRows, rows - start)
      let mean = moments.baseAddress! + slot * 2 * c
      counts[slot] = count
      kernels.blockMoments(count, c, x + start * c, mean, mean + c)
    }
  }

  /// The mean and biased variance over every chunk.
  var statistics: (mean: [Float], variance: [Float]) {
    var total = ChannelMoments(channels: channels)
    for (slot, count) in counts.enumerated() where count > 0 {
      let mean = moments.baseAddress! + slot * 2 * channels
      total.merge(count: count, mean: mean, squaredDeviations: mean + channels)
    }
    return total.statistics
  }

  private func release() {
    guard isReserved else { return }
    counts.deallocate()
    moments.deallocate()
    counts = .init(start: nil, count: 0)
  }
}
