/// Batch normalisation over the last (channel) dimension: `BatchNorm2d` for NHWC images,
/// `BatchNorm1d` for `[N, C]` features.
///
/// Parameters: `weight` (γ) and `bias` (β), `[C]`; buffers `running_mean` and
/// `running_var`. In training mode it normalises with the batch statistics and updates
/// the running estimates, `running = (1 − momentum) · running + momentum · batch`, with the
/// unbiased variance as PyTorch does; in evaluation mode it uses the running estimates.
/// Reference: https://pytorch.org/docs/stable/generated/torch.nn.BatchNorm2d.html
public final class BatchNorm: Layer {
  public let channels: Int
  public let epsilon: Float
  /// The weight of a new batch in the running estimates; ``Layer/recomputeBatchNormStatistics(over:)``
  /// varies it to take a plain mean over batches.
  public var momentum: Float
  public let weight: Parameter, bias: Parameter
  public let runningMean: Parameter, runningVariance: Parameter
  public var isTraining = true
  /// What the last forward normalised with: its input, mean, 1/√(var + ε), and whether
  /// those were batch statistics.
  private var cache: (input: Tensor, mean: [Float], invStd: [Float], batchStatistics: Bool)?

  /// Creates a batch norm with γ = 1, β = 0, running mean 0 and running variance 1.
  public init(channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) {
    (self.channels, self.epsilon, self.momentum) = (channels, epsilon, momentum)
    weight = Parameter("weight", Tensor(shape: [channels], repeating: 1))
    bias = Parameter("bias", Tensor(shape: [channels]))
    runningMean = Parameter("running_mean", Tensor(shape: [channels]), kind: .buffer)
    runningVariance = Parameter("running_var", Tensor(shape: [channels], repeating: 1), kind: .buffer)
  }

  public var parameters: [Parameter] { [weight, bias, runningMean, runningVariance] }

  public func forward(_ input: Tensor) throws -> Tensor {
    try forward(input, clamp: nil)
  }

  /// The forward pass with the activation `clamp` applied in the same pass over the output
  /// (``NormalizationActivationPair``). In training mode it normalises with `statistics` (the
  /// batch mean and biased variance, as the layer before summed them:
  /// ``ConvolutionNormalizationRun``) when given, else with the ones it computes.
  func forward(_ input: Tensor, clamp: ClampActivation?, statistics: (mean: [Float], variance: [Float])? = nil) throws -> Tensor {
    let pending = try normalize(input, clamp: clamp, statistics: statistics)
    var output = Tensor(uninitializedShape: input.shape)
    pending.writeAll(into: output.mutablePointer())
    return output
  }

  /// ``forward(_:clamp:statistics:)`` up to writing the output — the checks, the statistics,
  /// the running estimates and what backward needs are done — with the output left to the
  /// caller to write, whole or a band at a time (``PendingNormalization``; it reads `input`,
  /// which must outlive it).
  func normalize(_ input: Tensor, clamp: ClampActivation?, statistics: (mean: [Float], variance: [Float])?) throws -> PendingNormalization {
    guard input.rank >= 2, input.shape.last == channels else {
      throw ShapeError(context: "BatchNorm input", expected: "[N, ..., \(channels)]", actual: input.shape)
    }
    let rows = input.count / channels
    var mean = runningMean.value.scalars, variance = runningVariance.value.scalars
    if isTraining {
      (mean, variance) = statistics ?? batchNormStatistics(input.pointer, rows: rows, channels: channels)
      updateRunningStatistics(mean: mean, variance: variance, rows: rows)
    }
    let invStd = variance.map { 1 / ($0 + epsilon).squareRoot() }
    cache = GradientRecording.isEnabled ? (input, mean, invStd, isTraining) : nil
    return PendingNormalization(
      input.pointer, rows: rows, channels: channels, mean: mean, invStd: invStd, gamma: weight.value.pointer,
      beta: bias.value.pointer, clamp: clamp)
  }

  /// Drops what the last recorded forward kept, when a folded chain runs in its place.
  func discardRecording() { cache = nil }

  /// Evaluation mode as one multiply-add per value, `y = x · scale + shift`, with
  /// `scale = γ / √(running_var + ε)` and `shift = β − running_mean · scale`.
  public func evaluationAffine() -> (scale: [Float], shift: [Float]) {
    let (mean, variance) = (runningMean.value.scalars, runningVariance.value.scalars)
    let (gamma, beta) = (weight.value.scalars, bias.value.scalars)
    let scale = (0..<channels).map { gamma[$0] / (variance[$0] + epsilon).squareRoot() }
    return (scale, (0..<channels).map { beta[$0] - mean[$0] * scale[$0] })
  }

  public func backward(_ dY: Tensor, needsInputGradient: Bool) -> Tensor? {
    backward(dY, needsInputGradient: needsInputGradient, clamp: nil)
  }

  /// The backward pass of this batch norm and the activation `clamp` after it, from the
  /// gradient at the activation's output, in the batch norm's own passes
  /// (``NormalizationActivationPair``), or with the sums `gathered` while `dY` was written.
  func backward(_ dY: Tensor, needsInputGradient: Bool, clamp: ClampActivation?, gathered: [Double]? = nil) -> Tensor? {
    let gradient = inputGradient(dY, clamp: clamp, gathered: gathered)
    guard needsInputGradient else { return nil }
    var dX = Tensor(uninitializedShape: dY.shape)
    gradient.writeAll(into: dX.mutablePointer())
    return dX
  }

  /// The first pass of ``backward(_:needsInputGradient:clamp:gathered:)`` — the sums, added to
  /// the parameters' gradients, unless they were `gathered` — and the terms that write the
  /// input gradient's rows on demand (``ConvolutionNormalizationBackward``). They read `dY` and
  /// this layer's recorded input: both must live, and no forward run, while the terms are in use.
  func inputGradient(_ dY: Tensor, clamp: ClampActivation?, gathered: [Double]? = nil) -> BatchNormInputGradient {
    guard let cache else { preconditionFailure("BatchNorm.backward called before forward") }
    precondition(dY.shape == cache.input.shape, "BatchNorm.backward: dY \(dY.shape) does not match input \(cache.input.shape)")
    return BatchNormInputGradient(
      dY: dY.pointer, sums: gradientSums(clamp: clamp), gathered: gathered, gamma: weight.value.pointer,
      batchStatistics: cache.batchStatistics,
      dGamma: weight.needsGradient ? weight.gradient.mutablePointer() : nil,
      dBeta: bias.needsGradient ? bias.gradient.mutablePointer() : nil)
  }

  /// True when backward needs the gradient sums: the last forward normalised with batch
  /// statistics, or γ or β is trained.
  var needsGradientSums: Bool { cache?.batchStatistics == true || weight.needsGradient || bias.needsGradient }

  /// What the gradient sums over this layer's recorded forward read, with the activation
  /// `clamp` after it: for the layer after to gather them (``GradientSumsGatherer``).
  func gradientSums(clamp: ClampActivation?) -> BatchNormGradientSums {
    guard let cache else { preconditionFailure("BatchNorm.backward called before forward") }
    return BatchNormGradientSums(
      x: cache.input.pointer, rows: cache.input.count / channels, channels: channels, mean: cache.mean,
      invStd: cache.invStd, gamma: weight.value.pointer, clamp: clamp.map { ($0, bias.value.pointer) })
  }

  private func updateRunningStatistics(mean: [Float], variance: [Float], rows: Int) {
    let unbiased = Float(rows) / Float(max(rows - 1, 1))
    var newMean = runningMean.value.scalars, newVariance = runningVariance.value.scalars
    for c in 0..<channels {
      newMean[c] = (1 - momentum) * newMean[c] + momentum * mean[c]
      newVariance[c] = (1 - momentum) * newVariance[c] + momentum * variance[c] * unbiased
    }
    runningMean.value = Tensor(shape: [channels], values: newMean)
    runningVariance.value = Tensor(shape: [channels], values: newVariance)
  }
}
