/// Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay,
/// step for step as PyTorch computes it:
///
/// ```
/// g = grad + weightDecay · p
/// buf = g                                  (first step)
/// buf = momentum · buf + (1 − dampening) · g  (later steps)
/// g = nesterov ? g + momentum · buf : buf
/// p = p − lr · g
/// ```
/// Reference: https://pytorch.org/docs/stable/generated/torch.optim.SGD.html
public final class SGD: Optimizer {
  public var learningRate: Float
  public let momentum: Float, dampening: Float, weightDecay: Float
  public let nesterov: Bool
  private let parameters: [Parameter]
  private var state: [[Tensor]] = []
  private var hasMomentumBuffer = false

  /// Creates an optimizer over `parameters`.
  ///
  /// - Precondition: Nesterov momentum needs a positive momentum and zero dampening.
  public init(
    _ parameters: [Parameter], learningRate: Float, momentum: Float = 0, dampening: Float = 0,
    weightDecay: Float = 0, nesterov: Bool = false
  ) {
    precondition(!nesterov || (momentum > 0 && dampening == 0), "Nesterov momentum requires momentum > 0 and dampening 0")
    self.parameters = parameters
    (self.learningRate, self.momentum, self.dampening) = (learningRate, momentum, dampening)
    (self.weightDecay, self.nesterov) = (weightDecay, nesterov)
  }

  public func step() {
    let (lr, mu, decay, damp, nesterov) = (learningRate, momentum, weightDecay, dampening, self.nesterov)
    let first = !hasMomentumBuffer
    forEachTrainable(parameters, state: &state, buffers: mu == 0 ? 0 : 1) { parameter, p, grad, buffers, count in
      let rate = lr * parameter.learningRateScale
      for i in 0..<count {
        var g = grad[i] + decay * p[i]
        if mu != 0 {
          let buf = buffers[0]
          buf[i] = first ? g : mu * buf[i] + (1 - damp) * g
          g = nesterov ? g + mu * buf[i] : buf[i]
        }
        p[i] -= rate * g
      }
    }
    hasMomentumBuffer = true
  }

  public func checkpointState() -> (tensors: [(name: String, tensor: Tensor)], steps: Int) {
    (namedState(parameters, state), hasMomentumBuffer ? 1 : 0)
  }

  public func restore(tensors: [String: Tensor], steps: Int) throws {
    state = try restoredState(parameters, buffers: momentum == 0 ? 0 : 1, from: tensors)
    hasMomentumBuffer = steps > 0 && (momentum == 0 || !state.isEmpty)
  }
}
