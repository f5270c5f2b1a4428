/// Layers applied one after another (`torch.nn.Sequential`).
///
/// Children are named `0`, `1`, ... unless names are given, so parameter names match
/// PyTorch's (`features.0.weight`). Backward stops at the first layer that has a trainable
/// parameter when the caller needs no input gradient, so frozen stems cost no backward.
public final class Sequential: Layer {
  public private(set) var children: [(name: String, layer: any Layer)]
  public var isTraining = true

  /// Creates a sequence whose children are named by position.
  public init(_ layers: [any Layer]) {
    children = layers.enumerated().map { ("\($0.offset)", $0.element) }
  }

  /// Creates a sequence with named children (e.g. `conv1`, `bn1`, `layer1`).
  public init(named layers: [(String, any Layer)]) {
    children = layers.map { (name: $0.0, layer: $0.1) }
  }

  /// The layers in order.
  public var layers: [any Layer] { children.map(\.layer) }

  /// The child with this name, if any.
  public subscript(name: String) -> (any Layer)? {
    children.first { $0.name == name }?.layer
  }

  /// Appends a layer; it is named by position unless `name` is given.
  public func append(_ layer: any Layer, name: String? = nil) {
    children.append((name ?? "\(children.count)", layer))
  }

  /// Replaces the child called `name` (e.g. a classifier head).
  public func replace(_ name: String, with layer: any Layer) {
    guard let index = children.firstIndex(where: { $0.name == name }) else {
      preconditionFailure("Sequential has no child named \(name)")
    }
    children[index].layer = layer
  }

  /// Runs the children in order. Where nothing is recorded, a convolution with the batch
  /// norm and activation after it runs as one ``ConvolutionChain``, and an inverted
  /// bottleneck of such chains, or such a chain and the max pooling after it, band by band
  /// (``InvertedBottleneckChain``, ``ConvolutionPoolChain``); where gradients are
  /// recorded, a convolution hands the batch norm in training mode after it the statistics of
  /// its output (``ConvolutionNormalizationRun``), and a depthwise or 1×1 one computes such a
  /// run's activation band by band instead of reading it (``PendingActivationRun``); elsewhere a
  /// batch norm and the activation after it run forward as one pass (``NormalizationActivationPair``).
  public func forward(_ input: Tensor) throws -> Tensor {
    try forward(input, childrenBefore: children.count)
  }

  /// ``forward(_:)`` through the children before `end` only: what a residual block whose last
  /// convolution takes the sum into its epilogue (``ResidualChain``) runs before it.
  func forward(_ input: Tensor, childrenBefore end: Int) throws -> Tensor {
    var x = input
    let firstRecorded = GradientRecording.skipsFrozenPrefix ? (children.firstIndex { $0.layer.hasTrainableParameters } ?? children.count) : 0
    // Children before this index record nothing; fused chains must end by it.
    let unrecordedEnd = GradientRecording.isEnabled ? min(firstRecorded, end) : end
    var index = 0
    while index < end {
      let (name, layer) = children[index]
      let recorded = index >= unrecordedEnd
      do {
        if let fused = fusedChain(at: index, endingBy: unrecordedEnd) {
          x = try fused.forward(x)
          index += fused.length
          continue
        }
        if recorded, let run = PendingActivationRun(children, at: index), index + run.length <= end {
          x = try run.forward(x)
          index += run.length
          continue
        }
        if recorded, let run = ConvolutionNormalizationRun(children, at: index), index + run.length <= end {
          x = try run.forward(x)
          index += run.length
          continue
        }
        let pair = index + 1 < end ? activationPair(at: index) : nil
        let run = pair ?? layer.forward
        x = recorded ? try run(x) : try GradientRecording.withoutGradients { try run(x) }
        index += pair == nil ? 1 : 2
      } catch var error as ShapeError {
        error.context = "\(name): \(error.context)"
        throw error
      }
    }
    return x
  }

  /// The forward of child `index` and the activation after it as one pass, when they pair:
  /// a batch norm's (``NormalizationActivationPair``) or a convolution's
  /// (``ConvolutionActivationPair``).
  private func activationPair(at index: Int) -> ((Tensor) throws -> Tensor)? {
    if let pair = NormalizationActivationPair(children, at: index) { return { try pair.forward($0) } }
    if let pair = ConvolutionActivationPair(children, at: index) { return pair.forward }
    return nil
  }

  /// The fused run that starts at child `index` and ends by child `end` — an inverted
  /// bottleneck band by band, a folded convolution and the max pooling after it band by band,
  /// or a folded convolution — as its forward and the number of children it stands for.
  private func fusedChain(at index: Int, endingBy end: Int) -> (forward: (Tensor) throws -> Tensor, length: Int)? {
    guard index < end else { return nil }
    if let block = InvertedBottleneckChain(children, at: index), index + block.length <= end {
      return (block.forward, block.length)
    }
    if let chain = ConvolutionPoolChain(children, at: index), index + chain.length <= end {
      return (chain.forward, chain.length)
    }
    if let chain = ConvolutionChain(children, at: index), index + chain.length <= end {
      return (chain.forward, chain.length)
    }
    return nil
  }

  public func backward(_ dY: Tensor, needsInputGradient: Bool) -> Tensor? {
    let firstNeeded = needsInputGradient ? 0 : (children.firstIndex { $0.layer.hasTrainableParameters } ?? children.count)
    var gradient = dY
    var index = children.count - 1
    // The batch-norm sums of the run ending at `index`, gathered by the run after it.
    var gathered: [Double]?
    // True when `gradient` has already gone through the activation of the residual block at `index`.
    var throughActivation = false
    while index >= firstNeeded {
      if let block = children[index].layer as? Residual {
        // A residual block after another passes its input gradient through the one before's activation.
        let before = index - 1 >= firstNeeded ? (children[index - 1].layer as? Residual)?.foldableActivation : nil
        guard let next = block.backward(
          gradient, needsInputGradient: needsInputGradient || index > firstNeeded,
          arrivesThroughActivation: throughActivation, thenThrough: before)
        else { return nil }
        (gradient, gathered, index, throughActivation) = (next, nil, index - 1, before != nil)
        continue
      }
      if let (run, length) = ConvolutionNormalizationBackward.covering(children, endingAt: index), index - length + 1 >= firstNeeded {
        let first = index - length + 1, needed = needsInputGradient || first > firstNeeded
        let gathers = needed && run.writesInputGradientInChunks
        let before = gathers ? ConvolutionNormalizationBackward.covering(children, endingAt: first - 1) : nil
        let gatherer = before.flatMap { first - $0.children >= firstNeeded ? $0.run.gradientSumsGatherer() : nil }
        guard let next = run.backward(gradient, needsInputGradient: needed, gathered: gathered, gathering: gatherer) else {
          return nil
        }
        (gradient, gathered, index) = (next, gatherer?.total, first - 1)
        continue
      }
      let (length, backward) = backwardRun(endingAt: index, from: firstNeeded)
      let first = index - length + 1
      guard let next = backward(gradient, needsInputGradient || first > firstNeeded) else { return nil }
      (gradient, gathered, index) = (next, nil, first - 1)
    }
    return needsInputGradient ? gradient : nil
  }

  /// The children that go back as one, ending at child `index` and starting no earlier than
  /// `firstNeeded`, other than a convolution with the batch norm and activation after it
  /// (``ConvolutionNormalizationBackward``): a batch norm and its activation, run forward as a
  /// pair, or the child alone. Returns how many children and their backward.
  private func backwardRun(endingAt index: Int, from firstNeeded: Int) -> (Int, (Tensor, Bool) -> Tensor?) {
    if index - 1 >= firstNeeded, let pair = NormalizationActivationPair(children, at: index - 1) {
      return (2, pair.backward)
    }
    return (1, children[index].layer.backward)
  }
}

/// A residual block: `y = activation(body(x) + shortcut(x))`, with an identity shortcut
/// when `shortcut` is nil and no activation when `activation` is nil.
///
/// ResNet's basic and bottleneck blocks use a ReLU after the sum and a 1×1 strided
/// convolution with batch norm as shortcut when the shape changes; MobileNetV2's inverted
/// residual has neither.
public final class Residual: Layer {
  public let body: any Layer
  public let shortcut: (any Layer)?
  public let activation: (any Layer)?
  public var isTraining = true

  private let childNames: (body: String, shortcut: String, activation: String)

  /// Creates a block. Children are named by `names`, so parameter names can follow a
  /// checkpoint's (torchvision calls the shortcut `downsample`). An empty body name lists
  /// the body's own children in its place: torchvision's `layer1.0.conv1`, not
  /// `layer1.0.body.conv1`.
  public init(
    body: any Layer, shortcut: (any Layer)? = nil, activation: (any Layer)? = nil,
    names: (body: String, shortcut: String, activation: String) = ("body", "shortcut", "activation")
  ) {
    (self.body, self.shortcut, self.activation) = (body, shortcut, activation)
    childNames = names
  }

  public var children: [(name: String, layer: any Layer)] {
    var result: [(name: String, layer: any Layer)] = childNames.body.isEmpty ? body.children : [(childNames.body, body)]
    if let shortcut { result.append((childNames.shortcut, shortcut)) }
    if let activation { result.append((childNames.activation, activation)) }
    return result
  }

  /// `activation(body(x) + shortcut(x))`; the sum and a ReLU after it are one pass, whose
  /// output the ReLU records as its own. Where nothing is recorded and the body ends in a
  /// convolution and a batch norm, that pass is the convolution's epilogue (``ResidualChain``).
  public func forward(_ input: Tensor) throws -> Tensor {
    if !GradientRecording.isEnabled, let chain = ResidualChain(self) { return try chain.forward(input) }
    // The body's output is held by `sum` alone, so the sum is written in place, not into a copy.
    var sum = try body.forward(input)
    let skip = try shortcut?.forward(input) ?? input
    guard sum.shape == skip.shape else {
      throw ShapeError(context: Residual.sumContext, expected: sum.shape, actual: skip.shape)
    }
    if let activation = activation as? Activation {
      addClampInPlace(sum.mutablePointer(), skip.pointer, count: sum.count, activation.kind)
      activation.record(output: sum)
      return sum
    }
    addInParallel(sum.mutablePointer(), skip.pointer, count: sum.count)
    return try activation?.forward(sum) ?? sum
  }

  /// The context of the ``ShapeError`` thrown when the body's and the shortcut's outputs differ.
  static let sumContext = "Residual sum (body vs shortcut)"

  public func backward(_ dY: Tensor, needsInputGradient: Bool) -> Tensor? {
    backward(dY, needsInputGradient: needsInputGradient, arrivesThroughActivation: false, thenThrough: nil)
  }

  /// Backward within a sequence of blocks. With `arrivesThroughActivation`, `dY` has already
  /// gone through this block's activation (the block after this one folded it into its last
  /// pass). With `inputActivation` — the activation that produced this block's input, the
  /// block before's in a ResNet stage — the body's and the shortcut's input gradients are
  /// summed and passed through it in one pass, and that is the gradient returned.
  func backward(
    _ dY: Tensor, needsInputGradient: Bool, arrivesThroughActivation: Bool, thenThrough inputActivation: Activation?
  ) -> Tensor? {
    let dSum = arrivesThroughActivation ? dY : activation.map { $0.backward(dY, needsInputGradient: true)! } ?? dY
    // `dX` alone holds the body's input gradient, so the sum is written in place, not into a copy.
    guard var dX = body.backward(dSum, needsInputGradient: needsInputGradient) else {
      _ = shortcut?.backward(dSum, needsInputGradient: false)
      return nil
    }
    guard let dSkip = shortcut.map({ $0.backward(dSum, needsInputGradient: true) }) ?? dSum else { return nil }
    if let inputActivation {
      inputActivation.backward(summingInto: &dX, dSkip)
    } else {
      addInParallel(dX.mutablePointer(), dSkip.pointer, count: dX.count)
    }
    return dX
  }

  /// The activation after the sum, when it is a ReLU or ReLU6 layer whose backward the block
  /// before can fold into its own last pass.
  var foldableActivation: Activation? { activation as? Activation }
}
