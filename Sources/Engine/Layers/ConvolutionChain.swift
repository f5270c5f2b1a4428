/// A convolution, the batch norm in evaluation mode after it, and optionally a ReLU or
/// ReLU6, run as one convolution whose kernel applies the folded batch norm and the
/// activation to each chunk of output while it is in cache
/// (``Conv2D/forward(_:normalization:activation:)``).
///
/// ``Sequential`` runs such a chain folded whenever the forward pass records nothing:
/// inference, validation, feature extraction and frozen leading layers. Folding saves the
/// two passes over memory, and the two activations, that batch norm and activation would
/// cost on their own.
struct ConvolutionChain {
  let convolution: Conv2D
  let normalization: BatchNorm
  let activation: Activation?

  /// The children the chain stands for.
  var length: Int { activation == nil ? 2 : 3 }

  /// The chain that starts at child `index`, when the children there are a convolution
  /// and a batch norm in evaluation mode over its channels (and perhaps an activation).
  init?(_ children: [(name: String, layer: any Layer)], at index: Int) {
    guard let (convolution, normalization) = convolutionAndNormalization(children, at: index), !normalization.isTraining
    else { return nil }
    (self.convolution, self.normalization) = (convolution, normalization)
    activation = index + 2 < children.count ? children[index + 2].layer as? Activation : nil
  }

  /// The chain at child `index` and how many children it covers: the children from
  /// `index` on, or a ``Sequential`` child whose children are exactly one chain (as
  /// torchvision nests `Conv2dNormActivation`).
  static func covering(_ children: [(name: String, layer: any Layer)], at index: Int) -> (chain: ConvolutionChain, children: Int)? {
    coveringRun(children, at: index, find: ConvolutionChain.init, length: \.length).map { (chain: $0.run, children: $0.children) }
  }

  /// The batch norm and activation as the convolution's epilogue.
  var folded: FoldedNormalization {
    FoldedNormalization(normalization: normalization, bias: convolution.bias?.value, clamp: activation?.kind)
  }

  /// Drops what earlier recorded forwards of the convolution, batch norm and activation kept
  /// (a band-by-band pass never calls the convolution's own forward, which would).
  func discardRecordings() {
    convolution.discardRecording()
    normalization.discardRecording()
    activation?.discardRecording()
  }

  /// The chain's output, recording nothing.
  func forward(_ input: Tensor) throws -> Tensor {
    try forward(input, adding: nil, activation: activation?.kind)
  }

  /// The convolution and batch norm, then the addition of `residual` (if given) and
  /// `activation` in place of the chain's own — a residual block's sum and activation — all
  /// in the convolution's epilogue, recording nothing.
  ///
  /// - Throws: ``ShapeError`` when `residual` does not have the output's shape.
  func forward(_ input: Tensor, adding residual: Tensor?, activation: ClampActivation?) throws -> Tensor {
    try GradientRecording.withoutGradients {
      discardRecordings()
      return try convolution.forward(input, normalization: normalization, adding: residual, activation: activation)
    }
  }
}

/// The run `find` finds at child `index`, or the whole of child `index` when that is a
/// ``Sequential`` whose children are exactly one such run (as torchvision nests
/// `Conv2dNormActivation`), with the number of children it covers. With `endingAt`, `find`
/// takes the index of the run's last child (backward runs), else of its first.
func coveringRun<Run>(
  _ children: [(name: String, layer: any Layer)], at index: Int, endingAt: Bool = false,
  find: ([(name: String, layer: any Layer)], Int) -> Run?, length: (Run) -> Int
) -> (run: Run, children: Int)? {
  if let run = find(children, index) { return (run, length(run)) }
  guard children.indices.contains(index), let nested = children[index].layer as? Sequential,
    let run = find(nested.children, endingAt ? nested.children.count - 1 : 0), length(run) == nested.children.count
  else { return nil }
  return (run, 1)
}

/// The convolution at child `index` and the batch norm over its output channels right after
/// it, when the children there are those (in either mode): what ``ConvolutionChain`` folds and
/// ``ConvolutionNormalizationRun`` hands statistics across.
func convolutionAndNormalization(
  _ children: [(name: String, layer: any Layer)], at index: Int
) -> (convolution: Conv2D, normalization: BatchNorm)? {
  guard index + 1 < children.count, let convolution = children[index].layer as? Conv2D,
    let normalization = children[index + 1].layer as? BatchNorm, normalization.channels == convolution.outChannels
  else { return nil }
  return (convolution, normalization)
}
