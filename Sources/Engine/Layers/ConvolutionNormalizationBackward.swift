/// The backward pass of a convolution, the batch norm after it and the ReLU or ReLU6 after
/// that (if any), as one, where the network records gradients.
///
/// Apart, the batch norm writes its input gradient — for MobileNet's expansions and depthwise
/// layers six times the block's width — and the convolution reads it back twice, once for
/// its input gradient and once for its weight gradient. Here the batch norm makes only its
/// first pass (the sums) over the whole tensor; the convolution then asks for its output
/// gradient a band of rows at a time (``Conv2D/backward(needsInputGradient:chunkFloats:outputGradient:)``),
/// and the batch norm writes each band into a buffer that stays in cache for both of the
/// convolution's reads. Values are those of the layers run one after the other; weight
/// gradients are summed in another order.
struct ConvolutionNormalizationBackward {
  let convolution: Conv2D
  let normalization: BatchNorm
  let activation: Activation?

  /// The number of children the run stands for.
  var length: Int { activation == nil ? 2 : 3 }

  /// Floats of output gradient one band may hold: 256 KiB, a quarter of a core's L2, beside
  /// the input rows the weight gradient reads and the input-gradient rows written (tests
  /// shrink it to get many bands from small images).
  nonisolated(unsafe) static var chunkFloats = 1 << 16

  /// The run that ends at child `index`: a convolution, a batch norm over its output channels
  /// and, optionally, a ReLU or ReLU6.
  init?(_ children: [(name: String, layer: any Layer)], endingAt index: Int) {
    let activation = children[index].layer as? Activation
    let normalizationIndex = activation == nil ? index : index - 1
    guard normalizationIndex >= 1, let normalization = children[normalizationIndex].layer as? BatchNorm,
      let convolution = children[normalizationIndex - 1].layer as? Conv2D, normalization.channels == convolution.outChannels
    else { return nil }
    (self.convolution, self.normalization, self.activation) = (convolution, normalization, activation)
  }

  /// The layers' backward from the gradient at the run's output. Where the convolution takes
  /// its output gradient whole (``Conv2D/takesOutputGradientInChunks``), the batch norm
  /// writes it whole (past the caches when large), as apart.
  func backward(_ dY: Tensor, needsInputGradient: Bool) -> Tensor? {
    guard convolution.takesOutputGradientInChunks else {
      let dZ = normalization.backward(dY, needsInputGradient: true, clamp: activation?.kind)!
      return convolution.backward(dZ, needsInputGradient: needsInputGradient)
    }
    let gradient = normalization.inputGradient(dY, clamp: activation?.kind)
    return withExtendedLifetime(dY) {
      convolution.backward(needsInputGradient: needsInputGradient, chunkFloats: Self.chunkFloats) { pixels, target in
        gradient.write(rows: pixels, into: target)
      }
    }
  }
}
