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
    guard children.indices.contains(index) else { return nil }
    let activation = children[index].layer as? Activation
    let normalizationIndex = activation == nil ? index : index - 1
    guard normalizationIndex >= 1, let normalization = children[normalizationIndex].layer as? BatchNorm,
      let convolution = children[normalizationIndex - 1].layer as? Conv2D, normalization.channels == convolution.outChannels
    else { return nil }
    (self.convolution, self.normalization, self.activation) = (convolution, normalization, activation)
  }

  /// The run that ends at child `index`, or the whole of child `index` when that is a
  /// `Sequential` of just such a run (torchvision's `Conv2dNormActivation`), with the number
  /// of children it covers.
  static func covering(_ children: [(name: String, layer: any Layer)], endingAt index: Int) -> (run: Self, children: Int)? {
    coveringRun(children, at: index, endingAt: true, find: Self.init(_:endingAt:), length: \.length)
  }

  /// The layers' backward from the gradient at the run's output, the batch norm's sums
  /// `gathered` while `dY` was written when given. Where the convolution takes its output
  /// gradient whole (``Conv2D/takesOutputGradientInChunks``), the batch norm writes it whole
  /// (past the caches when large), as apart; where it takes it in chunks, `gathering` (the
  /// batch norm before the convolution's) adds up its sums from each chunk of the input
  /// gradient as it is written.
  func backward(
    _ dY: Tensor, needsInputGradient: Bool, gathered: [Double]? = nil, gathering: GradientSumsGatherer? = nil
  ) -> Tensor? {
    let clamp = activation?.kind
    guard convolution.takesOutputGradientInChunks else {
      let dZ = normalization.backward(dY, needsInputGradient: true, clamp: clamp, gathered: gathered)!
      return convolution.backward(dZ, needsInputGradient: needsInputGradient)
    }
    let gradient = normalization.inputGradient(dY, clamp: clamp, gathered: gathered)
    return withExtendedLifetime(dY) {
      convolution.backward(
        needsInputGradient: needsInputGradient, chunkFloats: Self.chunkFloats,
        outputGradient: { pixels, target in gradient.write(rows: pixels, into: target) },
        inputGradientWritten: gathering.map { gatherer in { gatherer.add(worker: $0, rows: $1, gradient: $2) } })
    }
  }

  /// True when the backward writes the input gradient a chunk at a time, so that the run
  /// before can gather its batch-norm sums from it (``gradientSumsGatherer()``).
  var writesInputGradientInChunks: Bool { convolution.takesOutputGradientInChunks }

  /// A gatherer for this run's batch-norm sums, for the run after it to fill while it writes
  /// this run's output gradient; nil when the batch norm needs no sums.
  func gradientSumsGatherer() -> GradientSumsGatherer? {
    guard normalization.needsGradientSums else { return nil }
    return GradientSumsGatherer(normalization.gradientSums(clamp: activation?.kind))
  }
}
