/// Bands of output rows, for the passes that compute each band's input rows into a buffer in
/// cache before reading them (inverted bottlenecks, depthwise convolutions over a batch norm's
/// output, ResNet's first convolution and pooling).
extension ConvGeometry {
  /// The input rows the windows of output rows `rows` read.
  func inputRows(reachedBy rows: Range<Int>) -> Range<Int> {
    guard !rows.isEmpty else { return 0..<0 }
    return max(0, rows.lowerBound * stride - padTop)..<min(height, (rows.upperBound - 1) * stride - padTop + kernelHeight)
  }

  /// Output rows per band such that the input rows a band reaches, `inputRowFloats` floats
  /// each, fit in `bandFloats`: at least one row, at most all.
  func outputRowsPerBand(inputRowFloats: Int, bandFloats: Int) -> Int {
    let capacity = max(kernelHeight, bandFloats / max(inputRowFloats, 1))
    return min(outHeight, max(1, (capacity - kernelHeight) / stride + 1))
  }

  /// The most input rows a band of `rows` output rows reaches.
  func inputRowCapacity(outputRows rows: Int) -> Int { min(height, (rows - 1) * stride + kernelHeight) }

  /// Runs `body(n, rows, scratch)` for every band of `rowsPerBand` output rows of every image,
  /// in parallel, each worker with `scratchFloats` floats of `scratch` from the pool.
  func forEachOutputBand(
    rowsPerBand: Int, scratchFloats: Int, _ body: (_ n: Int, _ rows: Range<Int>, _ scratch: UnsafeMutablePointer<Float>) -> Void
  ) {
    let bands = (outHeight + rowsPerBand - 1) / rowsPerBand
    Parallel.forEachRange(batch * bands) { items in
      withScratch(count: scratchFloats) { scratch in
        for item in items {
          let first = item % bands * rowsPerBand
          body(item / bands, first..<min(first + rowsPerBand, outHeight), scratch)
        }
      }
    }
  }
}
