/// A 2-D convolution layer on NHWC input: dense (`groups == 1`) or depthwise
/// (`groups == inChannels == outChannels`).
///
/// Parameters: `weight` `[KH, KW, IC, OC]` (dense) or `[KH, KW, C]` (depthwise), and
/// `bias` `[OC]` when `bias` is true. Initialised as torchvision initialises ResNets:
/// Kaiming normal with fan-out and ReLU gain, zero bias.
/// Reference: https://pytorch.org/docs/stable/generated/torch.nn.Conv2d.html
public final class Conv2D: Layer {
  public let inChannels: Int, outChannels: Int
  public let kernelSize: (height: Int, width: Int)
  public let stride: Int
  public let padding: ConvPadding
  /// 1 (dense) or the channel count (depthwise).
  public let groups: Int
  public let weight: Parameter
  public let bias: Parameter?
  public var isTraining = true
  /// What the last recorded forward read.
  private var recorded: RecordedInput?
  /// The Winograd transform of the weight, kept while the weight does not change.
  private var keptWinogradWeight: WinogradTransformedWeight?

  /// Creates a convolution with a square kernel.
  ///
  /// - Precondition: `groups` is 1 or equals both channel counts.
  public init(
    inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1,
    padding: ConvPadding = .symmetric(0), groups: Int = 1, bias: Bool = true,
    rng: inout SeededGenerator
  ) {
    precondition(
      groups == 1 || (groups == inChannels && groups == outChannels),
      "Conv2D supports groups 1 or groups == channels, got groups \(groups) for \(inChannels)→\(outChannels)")
    (self.inChannels, self.outChannels, self.stride, self.padding, self.groups) =
      (inChannels, outChannels, stride, padding, groups)
    kernelSize = (kernel, kernel)
    let shape = groups == 1 ? [kernel, kernel, inChannels, outChannels] : [kernel, kernel, outChannels]
    let fanOut = Float(outChannels * kernel * kernel / groups)
    weight = Parameter("weight", .randomNormal(shape: shape, std: (2 / fanOut).squareRoot(), rng: &rng))
    weight.pytorchLayout = groups == 1 ? .convolution : .depthwise
    self.bias = bias ? Parameter("bias", Tensor(shape: [outChannels])) : nil
  }

  public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

  /// True for a depthwise convolution.
  public var isDepthwise: Bool { groups > 1 }

  /// True for a dense 1×1 stride-1 convolution without padding: a product of the input's
  /// pixels and the weight.
  public var isPointwise: Bool {
    groups == 1 && kernelSize == (1, 1) && stride == 1 && (padding == .symmetric(0) || padding == .same)
  }

  /// The window geometry for an input of shape `[N, H, W, IC]`.
  public func geometry(for shape: [Int]) -> ConvGeometry {
    ConvGeometry(
      input: (shape[0], shape[1], shape[2], shape[3]), outChannels: outChannels,
      kernel: (kernelSize.height, kernelSize.width), stride: stride, padding: padding)
  }

  public func forward(_ input: Tensor) throws -> Tensor {
    try forward(input, epilogue: .bias(bias?.value.pointer))
  }

  /// The convolution followed by `activation`, in one pass: the kernel adds the bias and
  /// clamps each chunk of output while it is in cache (``ConvolutionActivationPair``). Records
  /// the input for backward as ``forward(_:)`` does; the gradient at this convolution's output
  /// is the activation's backward of the returned (clamped) values.
  public func forward(_ input: Tensor, activation: ClampActivation) throws -> Tensor {
    try forward(input, epilogue: ChannelEpilogue(shift: bias?.value.pointer, clamp: activation))
  }

  /// The convolution followed by `normalization` in evaluation mode, the addition of
  /// `residual` (if given) and `activation`, in one pass: the batch norm folds into a
  /// per-channel scale and shift that the kernel applies, with the sum and the activation, to
  /// each chunk of output while it is in cache. For forward passes that record nothing
  /// (inference, frozen layers).
  ///
  /// - Throws: ``ShapeError`` when `residual` does not have the output's shape.
  /// - Precondition: gradient recording is off, and `normalization` is in evaluation mode
  ///   over ``outChannels`` channels.
  public func forward(
    _ input: Tensor, normalization: BatchNorm, adding residual: Tensor? = nil, activation: ClampActivation?
  ) throws -> Tensor {
    precondition(
      !GradientRecording.isEnabled && !normalization.isTraining && normalization.channels == outChannels,
      "a folded batch norm records no gradient and matches the convolution's channels")
    let folded = FoldedNormalization(normalization: normalization, bias: bias?.value, clamp: activation)
    return try folded.withEpilogue { try forward(input, epilogue: $0, adding: residual) }
  }

  /// The forward pass that also returns its output's per-channel batch statistics (mean and
  /// biased variance), summed chunk by chunk while each chunk is in cache, for a batch norm in
  /// training mode right after it (``ConvolutionNormalizationRun``); nil statistics where the
  /// kernel does not collect them (im2col and Winograd convolutions).
  func forwardCollectingStatistics(_ input: Tensor) throws -> (output: Tensor, statistics: (mean: [Float], variance: [Float])?) {
    let moments = ChunkMoments(channels: outChannels)
    let output = try forward(input, epilogue: .bias(bias?.value.pointer), moments: moments)
    return (output, moments.isReserved ? moments.statistics : nil)
  }

  /// True when ``forwardCollectingStatistics(normalizing:of:bandFloats:)`` takes this
  /// convolution: a depthwise one without a bias, or a 1×1 stride-1 one whose weight gradient
  /// stays in cache (so that its backward too reads the input a chunk at a time).
  var readsPendingInput: Bool {
    isDepthwise ? bias == nil : isPointwise && MatrixKernels.keepsInCache(weightGradient: inChannels, by: outChannels)
  }

  /// ``forwardCollectingStatistics(_:)`` of a convolution whose input is a batch norm's
  /// output, never written whole: `pending` writes the input rows of each band of output rows
  /// (depthwise) or chunk of pixels (1×1) into cache as it is needed, at most about
  /// `bandFloats` floats, here and again for the weight gradient (``PendingActivationRun``).
  /// `source` is the tensor `pending` reads (the batch norm's input), kept while recorded.
  ///
  /// - Precondition: ``readsPendingInput``.
  func forwardCollectingStatistics(
    normalizing pending: PendingNormalization, of source: Tensor, bandFloats: Int
  ) throws -> (output: Tensor, statistics: (mean: [Float], variance: [Float])) {
    precondition(readsPendingInput, "only a depthwise convolution without a bias or a 1×1 one reads its input a band at a time")
    try checkInput(source, of: "Conv2D", rank: 4, lastDimension: inChannels, letters: "[N, H, W, \(inChannels)]")
    try checkWindowFits(source.shape)
    let g = geometry(for: source.shape), moments = ChunkMoments(channels: outChannels)
    recorded = GradientRecording.isEnabled ? .pending(pending, source: source) : nil
    var output = Tensor(uninitializedShape: g.outputShape)
    if isDepthwise {
      depthwiseConv2dForward(
        input: pending, weight: weight.value.pointer, output: output.mutablePointer(), geometry: g, moments: moments,
        bandFloats: bandFloats)
    } else {
      pointwiseForward(
        input: pending, weight: weight.value.pointer, output: output.mutablePointer(), geometry: g,
        epilogue: .bias(bias?.value.pointer), moments: moments, chunkFloats: bandFloats)
    }
    return (output, moments.statistics)
  }

  private func forward(
    _ input: Tensor, epilogue: ChannelEpilogue, adding residual: Tensor? = nil, moments: ChunkMoments? = nil
  ) throws -> Tensor {
    try checkInput(input, of: "Conv2D", rank: 4, lastDimension: inChannels, letters: "[N, H, W, \(inChannels)]")
    try checkWindowFits(input.shape)
    let g = geometry(for: input.shape)
    if let residual, residual.shape != g.outputShape {
      throw ShapeError(context: Residual.sumContext, expected: g.outputShape, actual: residual.shape)
    }
    recorded = GradientRecording.isEnabled ? .tensor(input) : nil
    var output = Tensor(uninitializedShape: g.outputShape)
    let target = output.mutablePointer()
    var epilogue = epilogue
    if let residual { epilogue.addend = ChannelEpilogue.Addend(values: residual.pointer, output: target) }
    let kernel = isDepthwise ? depthwiseConv2dForward : conv2dForward
    withExtendedLifetime(residual) {
      if !isDepthwise, g.suitsWinograd, let transformed = winogradWeightToKeep(g) {
        winogradConv2dForward(
          input: input.pointer, transformedWeight: transformed.values.pointer, layout: transformed.layout,
          output: target, geometry: g, epilogue: epilogue)
      } else {
        kernel(input.pointer, weight.value.pointer, target, g, epilogue, moments)
      }
    }
    return output
  }

  /// Drops the input an earlier recorded forward kept.
  func discardRecording() { recorded = nil }

  /// The Winograd transform of the weight for `g`: the one kept from an earlier forward while
  /// the weight has not changed since, or made now and kept. Nil, and nothing kept, where this
  /// forward trains the weight (it records gradients and the weight needs one): the weight is
  /// about to change, and the kernel transforms it into scratch memory.
  private func winogradWeightToKeep(_ g: ConvGeometry) -> WinogradTransformedWeight? {
    guard !(GradientRecording.isEnabled && weight.needsGradient) else {
      keptWinogradWeight = nil
      return nil
    }
    let layout = WinogradWeightLayout(geometry: g)
    if let kept = keptWinogradWeight, kept.isCurrent(for: weight, layout: layout) { return kept }
    keptWinogradWeight = WinogradTransformedWeight(weight, layout: layout)
    return keptWinogradWeight
  }

  public func backward(_ dY: Tensor, needsInputGradient: Bool) -> Tensor? {
    guard let input = recorded?.tensor else { preconditionFailure("Conv2D.backward called before forward") }
    let g = geometry(for: input.shape)
    precondition(dY.shape == g.outputShape, "Conv2D.backward: dY \(dY.shape) does not match output \(g.outputShape)")
    var dX = needsInputGradient ? Tensor(uninitializedShape: input.shape) : nil
    let dXPointer = dX?.mutablePointer()
    let dW = weight.needsGradient ? weight.gradient.mutablePointer() : nil
    let dBias = bias?.needsGradient == true ? bias!.gradient.mutablePointer() : nil
    let kernel = isDepthwise ? depthwiseConv2dBackward : conv2dBackward
    kernel(input.pointer, weight.value.pointer, dY.pointer, dXPointer, dW, dBias, g)
    return dX
  }

  /// True when ``backward(needsInputGradient:chunkFloats:outputGradient:)`` takes the
  /// output gradient of the last recorded forward a chunk at a time: a depthwise convolution,
  /// or a 1×1 one whose weight gradient stays in cache, without a bias to train.
  var takesOutputGradientInChunks: Bool {
    guard let recorded, bias?.needsGradient != true else { return false }
    let g = geometry(for: recorded.shape)
    return isDepthwise || (g.isPointwise && MatrixKernels.keepsInCache(weightGradient: inChannels, by: outChannels))
  }

  /// The backward pass with the output gradient not in memory but written on demand by
  /// `outputGradient` (the batch norm after the convolution: ``ConvolutionNormalizationBackward``),
  /// band by band for a depthwise convolution and chunk by chunk for a 1×1 one, `chunkFloats`
  /// at most each, into a buffer that stays in cache for both of the gradients read from it.
  /// `inputGradientWritten` reads each chunk of the input gradient once written.
  ///
  /// - Precondition: ``takesOutputGradientInChunks``.
  func backward(
    needsInputGradient: Bool, chunkFloats: Int, outputGradient: OutputGradientWriter,
    inputGradientWritten: InputGradientObserver? = nil
  ) -> Tensor? {
    precondition(takesOutputGradientInChunks, "Conv2D.backward: this convolution takes its output gradient whole")
    guard let recorded, needsInputGradient || weight.needsGradient else { return nil }
    let g = geometry(for: recorded.shape)
    var dX = needsInputGradient ? Tensor(uninitializedShape: recorded.shape) : nil
    let dW = weight.needsGradient ? weight.gradient.mutablePointer() : nil
    if isDepthwise {
      withExtendedLifetime(recorded) {
        depthwiseConv2dBackward(
          input: recorded.source, weight: weight.value.pointer, dX: dX?.mutablePointer(), dW: dW, geometry: g,
          chunkFloats: chunkFloats, outputGradient: outputGradient, inputGradientWritten: inputGradientWritten)
      }
    } else {
      withExtendedLifetime(recorded) {
        pointwiseBackward(
          input: recorded.source, weight: weight.value.pointer, dX: dX?.mutablePointer(), dW: dW, geometry: g,
          chunkFloats: chunkFloats, outputGradient: outputGradient, inputGradientWritten: inputGradientWritten)
      }
    }
    return dX
  }

  private func checkWindowFits(_ shape: [Int]) throws {
    if case let .explicit(top, bottom, left, right) = padding,
      shape[1] + top + bottom < kernelSize.height || shape[2] + left + right < kernelSize.width
    {
      throw ShapeError(
        context: "Conv2D input (kernel \(kernelSize.height)x\(kernelSize.width), padding \(top),\(bottom),\(left),\(right))",
        expected: "[N, H ≥ \(kernelSize.height - top - bottom), W ≥ \(kernelSize.width - left - right), \(inChannels)]",
        actual: shape)
    }
  }
}

/// What a convolution's last recorded forward read: a tensor, or a batch norm's output that
/// it read band by band and never wrote whole (with the tensor that output is computed from).
private enum RecordedInput {
  case tensor(Tensor)
  case pending(PendingNormalization, source: Tensor)

  var shape: [Int] {
    switch self {
    case .tensor(let input): input.shape
    case .pending(_, let source): source.shape
    }
  }

  /// The input as a tensor, written whole if it was pending.
  var tensor: Tensor {
    switch self {
    case .tensor(let input):
      return input
    case .pending(let pending, let source):
      var input = Tensor(uninitializedShape: source.shape)
      pending.writeAll(into: input.mutablePointer())
      return input
    }
  }

  /// The input as the chunked kernels read it (valid while this value lives).
  var source: ConvolutionInput {
    switch self {
    case .tensor(let input): .memory(input.pointer)
    case .pending(let pending, _): .pending(pending)
    }
  }
}

extension Tensor {
  /// A tensor of independent normal samples with mean 0 and standard deviation `std`.
  public static func randomNormal(shape: [Int], std: Float, rng: inout SeededGenerator) -> Tensor {
    var result = Tensor(uninitializedShape: shape)
    let p = result.mutablePointer()
    for i in 0..<result.count { p[i] = rng.nextNormal() * std }
    return result
  }

  /// A tensor of independent uniform samples in `[-bound, bound)`.
  public static func randomUniform(shape: [Int], bound: Float, rng: inout SeededGenerator) -> Tensor {
    var result = Tensor(uninitializedShape: shape)
    let p = result.mutablePointer()
    for i in 0..<result.count { p[i] = rng.nextUniform(-bound, bound) }
    return result
  }
}
