/// A convolution and the batch norm in training mode right after it (with the activation
/// after that, if any), where the network records gradients. The convolution sums its
/// output's per-channel moments chunk by chunk while each chunk is still in cache
/// (``Conv2D/forwardCollectingStatistics(_:)``), and the batch norm normalises with them, so
/// the pass the batch norm would make over the whole output for its statistics is never made.
/// Backward, the layers run as they would apart.
struct ConvolutionNormalizationRun {
  let convolution: Conv2D
  let normalization: BatchNorm
  let pair: NormalizationActivationPair?

  /// The number of children the run stands for.
  var length: Int { pair == nil ? 2 : 3 }

  /// The run at child `index`, when it is a convolution followed by a batch norm in training
  /// mode over its output channels.
  init?(_ children: [(name: String, layer: any Layer)], at index: Int) {
    guard let (convolution, normalization) = convolutionAndNormalization(children, at: index), normalization.isTraining
    else { return nil }
    (self.convolution, self.normalization) = (convolution, normalization)
    pair = NormalizationActivationPair(children, at: index + 1)
  }

  /// The run at child `index`, or the whole of child `index` when that is a `Sequential` of
  /// just such a run (torchvision's `ConvBNReLU`), with the number of children it covers.
  static func covering(_ children: [(name: String, layer: any Layer)], at index: Int) -> (run: Self, children: Int)? {
    coveringRun(children, at: index, find: Self.init, length: \.length)
  }

  func forward(_ input: Tensor) throws -> Tensor {
    let (output, statistics) = try convolution.forwardCollectingStatistics(input)
    return try normalize(output, statistics: statistics)
  }

  /// The batch norm's (and activation's) forward on the convolution's `output`, with the
  /// statistics the convolution collected, if any.
  func normalize(_ output: Tensor, statistics: (mean: [Float], variance: [Float])?) throws -> Tensor {
    if let pair { return try pair.forward(output, statistics: statistics) }
    return try normalization.forward(output, clamp: nil, statistics: statistics)
  }
}
