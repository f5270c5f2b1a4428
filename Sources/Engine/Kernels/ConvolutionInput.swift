/// Where a convolution that works a band or chunk of rows at a time reads its input: memory,
/// or a batch norm's output that is written a band of rows at a time into cache and never
/// whole (``PendingNormalization``).
enum ConvolutionInput {
  case memory(UnsafePointer<Float>)
  case pending(PendingNormalization)

  /// Where image `n`'s row 0 is (or would be), with its rows `rows` readable: written into
  /// `scratch` first when pending (`rows.count` image rows of it). For depthwise bands.
  func image(_ n: Int, rows: Range<Int>, geometry g: ConvGeometry, scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
    let rowFloats = g.width * g.inChannels
    let firstPixel = (n * g.height + rows.lowerBound) * g.width
    return pixels(firstPixel..<firstPixel + rows.count * g.width, channels: g.inChannels, scratch: scratch)
      - rows.lowerBound * rowFloats
  }

  /// Where pixels `range` of the input's `[pixels, channels]` view are: in place, or written
  /// into `scratch` first when pending (`range.count · channels` floats of it). For 1×1 chunks.
  func pixels(_ range: Range<Int>, channels: Int, scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
    switch self {
    case .memory(let input):
      return input + range.lowerBound * channels
    case .pending(let normalization):
      normalization.write(rows: range, into: scratch)
      return UnsafePointer(scratch)
    }
  }

  /// True when the input is written on demand, so that a reader needs a buffer for it.
  var isPending: Bool {
    if case .pending = self { return true }
    return false
  }
}
