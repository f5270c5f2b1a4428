import Foundation

/// Adam, and AdamW when `decoupledWeightDecay` is set, step for step as PyTorch computes it:
///
/// ```
/// p = p · (1 − lr · weightDecay)        (AdamW)    g = grad + weightDecay · p   (Adam)
/// m = β1 · m + (1 − β1) · g
/// v = β2 · v + (1 − β2) · g²
/// p = p − lr / (1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + ε)
/// ```
/// References: https://pytorch.org/docs/stable/generated/torch.optim.Adam.html,
/// https://pytorch.org/docs/stable/generated/torch.optim.AdamW.html (Loshchilov & Hutter, 2019).
public final class Adam: Optimizer {
  public var learningRate: Float
  public let beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
  /// AdamW's decoupled decay (`true`) or Adam's L2 penalty added to the gradient (`false`).
  public let decoupledWeightDecay: Bool
  private let parameters: [Parameter]
  private var state: [[Tensor]] = []
  private var stepCount = 0

  /// Creates Adam (L2 weight decay) over `parameters`.
  public init(
    _ parameters: [Parameter], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
    epsilon: Float = 1e-8, weightDecay: Float = 0, decoupledWeightDecay: Bool = false
  ) {
    self.parameters = parameters
    (self.learningRate, self.beta1, self.beta2, self.epsilon) = (learningRate, beta1, beta2, epsilon)
    (self.weightDecay, self.decoupledWeightDecay) = (weightDecay, decoupledWeightDecay)
  }

  /// AdamW: Adam with decoupled weight decay (PyTorch's default decay 0.01).
  public static func adamW(
    _ parameters: [Parameter], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
    epsilon: Float = 1e-8, weightDecay: Float = 0.01
  ) -> Adam {
    Adam(parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
         weightDecay: weightDecay, decoupledWeightDecay: true)
  }

  public func step() {
    stepCount += 1
    let (b1, b2, eps, decay, decoupled) = (beta1, beta2, epsilon, weightDecay, decoupledWeightDecay)
    let correction1 = 1 - Float(pow(Double(b1), Double(stepCount)))
    let correction2Root = Float((1 - pow(Double(b2), Double(stepCount))).squareRoot())
    let lr = learningRate
    forEachTrainable(parameters, state: &state, buffers: 2) { parameter, p, grad, buffers, count in
      let rate = lr * parameter.learningRateScale
      let stepSize = rate / correction1
      let m = buffers[0], v = buffers[1]
      for i in 0..<count {
        var g = grad[i]
        if decoupled { p[i] *= 1 - rate * decay } else { g += decay * p[i] }
        m[i] = b1 * m[i] + (1 - b1) * g
        v[i] = b2 * v[i] + (1 - b2) * g * g
        p[i] -= stepSize * m[i] / (v[i].squareRoot() / correction2Root + eps)
      }
    }
  }

  public func checkpointState() -> (tensors: [(name: String, tensor: Tensor)], steps: Int) {
    (namedState(parameters, state), stepCount)
  }

  public func restore(tensors: [String: Tensor], steps: Int) throws {
    state = try restoredState(parameters, buffers: 2, from: tensors)
    stepCount = steps
  }
}
