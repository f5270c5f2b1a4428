/// How a new `Linear` layer's weight and bias start.
public enum LinearInitialization: String, Codable, CaseIterable, Sendable {
  /// PyTorch's default: weight and bias uniform in `±1/√IN`.
  case uniform
  /// Every weight and bias zero: Big Transfer's (BiT, Kolesnikov et al. 2020) start for a
  /// new classifier on pretrained features. The first step moves each class's row toward
  /// the mean features of its images, so no random projection has to be unlearned.
  case zero
}

/// A fully connected layer: `y = x · Wᵀ + b`.
///
/// Shapes: input `[N, IN]`, `weight` `[OUT, IN]` (PyTorch's layout), `bias` `[OUT]`,
/// output `[N, OUT]`. Initialised as PyTorch does (weight and bias uniform in `±1/√IN`)
/// unless asked for zeros. Reference: https://pytorch.org/docs/stable/generated/torch.nn.Linear.html
public final class Linear: Layer {
  public let inFeatures: Int, outFeatures: Int
  public let weight: Parameter
  public let bias: Parameter?
  public var isTraining = true
  private var input: Tensor?

  /// Creates a layer with PyTorch's default initialisation.
  public convenience init(inFeatures: Int, outFeatures: Int, bias: Bool = true, rng: inout SeededGenerator) {
    self.init(inFeatures: inFeatures, outFeatures: outFeatures, bias: bias, initialization: .uniform, rng: &rng)
  }

  /// Creates a layer initialised as `initialization` says; only `.uniform` draws from `rng`.
  public init(inFeatures: Int, outFeatures: Int, bias: Bool = true, initialization: LinearInitialization, rng: inout SeededGenerator) {
    (self.inFeatures, self.outFeatures) = (inFeatures, outFeatures)
    switch initialization {
    case .uniform:
      let bound = 1 / Float(inFeatures).squareRoot()
      weight = Parameter("weight", .randomUniform(shape: [outFeatures, inFeatures], bound: bound, rng: &rng))
      self.bias = bias ? Parameter("bias", .randomUniform(shape: [outFeatures], bound: bound, rng: &rng)) : nil
    case .zero:
      weight = Parameter("weight", Tensor(shape: [outFeatures, inFeatures]))
      self.bias = bias ? Parameter("bias", Tensor(shape: [outFeatures])) : nil
    }
  }

  public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

  public func forward(_ input: Tensor) throws -> Tensor {
    try checkInput(input, of: "Linear", rank: 2, lastDimension: inFeatures, letters: "[N, \(inFeatures)]")
    self.input = GradientRecording.isEnabled ? input : nil
    let n = input.shape[0]
    var output = Tensor(uninitializedShape: [n, outFeatures])
    let y = output.mutablePointer()
    gemm(transposeA: false, transposeB: true, m: n, n: outFeatures, k: inFeatures,
         a: input.pointer, lda: inFeatures, b: weight.value.pointer, ldb: inFeatures, c: y, ldc: outFeatures)
    if let bias { addRowVector(y, rows: n, columns: outFeatures, bias.value.pointer) }
    return output
  }

  public func backward(_ dY: Tensor, needsInputGradient: Bool) -> Tensor? {
    guard let input else { preconditionFailure("Linear.backward called before forward") }
    let n = input.shape[0]
    precondition(dY.shape == [n, outFeatures], "Linear.backward: dY \(dY.shape) does not match output [\(n), \(outFeatures)]")
    if weight.needsGradient {  // dW[OUT, IN] += dYᵀ · x
      gemm(transposeA: true, transposeB: false, m: outFeatures, n: inFeatures, k: n,
           a: dY.pointer, lda: outFeatures, b: input.pointer, ldb: inFeatures,
           beta: 1, c: weight.gradient.mutablePointer(), ldc: inFeatures)
    }
    if let bias, bias.needsGradient {
      addColumnSums(dY.pointer, rows: n, columns: outFeatures, into: bias.gradient.mutablePointer())
    }
    guard needsInputGradient else { return nil }
    var dX = Tensor(uninitializedShape: input.shape)  // dX = dY · W
    gemm(transposeA: false, transposeB: false, m: n, n: inFeatures, k: outFeatures,
         a: dY.pointer, lda: outFeatures, b: weight.value.pointer, ldb: inFeatures,
         c: dX.mutablePointer(), ldc: inFeatures)
    return dX
  }
}
