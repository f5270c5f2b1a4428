/// Two ``ConvolutionNormalizationRun``s in a row, where the network records gradients, whose
/// first ends in a batch norm and a ReLU or ReLU6 and whose second is a depthwise convolution
/// without a bias — MobileNet's and EfficientNet's expansion and depthwise layers.
///
/// The first run's output, six times the block's input, is never written: the batch norm
/// only collects its statistics and records its input (``BatchNorm/normalize(_:clamp:statistics:)``),
/// and the depthwise convolution computes the input rows of each band of its output into
/// cache from that input as it goes (``Conv2D/forwardCollectingStatistics(normalizing:of:bandFloats:)``),
/// and again band by band for its weight gradient. That saves writing and reading back one
/// expanded tensor per block forward, and holding it until backward. Backward, the first
/// run's batch norm needs only its input (``ConvolutionNormalizationBackward``).
struct PendingActivationRun {
  let producer: ConvolutionNormalizationRun
  let activation: Activation
  let depthwise: ConvolutionNormalizationRun
  /// The children the run stands for.
  let length: Int

  /// Floats of input rows one band of the depthwise convolution's output may read: 256 KiB
  /// (tests shrink it to get many bands from small images).
  nonisolated(unsafe) static var bandFloats = 1 << 16

  /// The runs at child `index`, flat or each a `Sequential` of its own.
  init?(_ children: [(name: String, layer: any Layer)], at index: Int) {
    guard let (producer, producerLength) = ConvolutionNormalizationRun.covering(children, at: index),
      let activation = producer.pair?.activation,
      let (depthwise, depthwiseLength) = ConvolutionNormalizationRun.covering(children, at: index + producerLength),
      depthwise.convolution.isDepthwise, depthwise.convolution.bias == nil
    else { return nil }
    (self.producer, self.activation, self.depthwise) = (producer, activation, depthwise)
    length = producerLength + depthwiseLength
  }

  func forward(_ input: Tensor) throws -> Tensor {
    let (expanded, statistics) = try producer.convolution.forwardCollectingStatistics(input)
    let pending = try producer.normalization.normalize(expanded, clamp: activation.kind, statistics: statistics)
    activation.discardRecording()
    let (filtered, filteredStatistics) = try depthwise.convolution.forwardCollectingStatistics(
      normalizing: pending, of: expanded, bandFloats: Self.bandFloats)
    return try depthwise.normalize(filtered, statistics: filteredStatistics)
  }
}
