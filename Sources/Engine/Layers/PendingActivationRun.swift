/// ``ConvolutionNormalizationRun``s in a row, where the network records gradients, each after
/// the first a convolution that reads its input a band or a chunk of rows at a time
/// (``Conv2D/readsPendingInput``: a depthwise convolution without a bias, or a 1×1 one) —
/// MobileNet's and EfficientNet's expansion, depthwise and projection layers, and ResNet's
/// 3×3 and the 1×1 after it.
///
/// The batch norm outputs between them (with their activations) are never written: such a
/// batch norm only collects its statistics and records its input
/// (``BatchNorm/normalize(_:clamp:statistics:)``), and the convolution after it computes the
/// input rows of each band or chunk into cache from that input as it goes
/// (``Conv2D/forwardCollectingStatistics(normalizing:of:bandFloats:)``), and again a band or
/// chunk at a time for its weight gradient. In an inverted bottleneck that saves writing and
/// reading back the expanded activation (six times the block's input) and the depthwise
/// one, and holding them until backward. Backward, each batch norm needs only its input
/// (``ConvolutionNormalizationBackward``).
struct PendingActivationRun {
  /// The runs in order, at least two.
  let runs: [ConvolutionNormalizationRun]
  /// The children the run stands for.
  let length: Int

  /// Floats of input rows one band or chunk of a convolution's output may read: 256 KiB
  /// (tests shrink it to get many bands from small images).
  nonisolated(unsafe) static var bandFloats = 1 << 16

  /// The runs from child `index` on, each flat or a `Sequential` of its own, for as long as
  /// the next convolution reads its input a band at a time; nil when there are fewer than two.
  init?(_ children: [(name: String, layer: any Layer)], at index: Int) {
    guard let (first, firstLength) = ConvolutionNormalizationRun.covering(children, at: index) else { return nil }
    var runs = [first], length = firstLength
    while let (next, nextLength) = ConvolutionNormalizationRun.covering(children, at: index + length),
      next.convolution.readsPendingInput
    {
      runs.append(next)
      length += nextLength
    }
    guard runs.count >= 2 else { return nil }
    (self.runs, self.length) = (runs, length)
  }

  func forward(_ input: Tensor) throws -> Tensor {
    var (output, statistics) = try runs[0].convolution.forwardCollectingStatistics(input)
    for (producer, consumer) in zip(runs, runs.dropFirst()) {
      let activation = producer.pair?.activation
      let pending = try producer.normalization.normalize(output, clamp: activation?.kind, statistics: statistics)
      activation?.discardRecording()
      let next = try consumer.convolution.forwardCollectingStatistics(normalizing: pending, of: output, bandFloats: Self.bandFloats)
      (output, statistics) = (next.output, next.statistics)
    }
    return try runs[runs.count - 1].normalize(output, statistics: statistics)
  }
}
