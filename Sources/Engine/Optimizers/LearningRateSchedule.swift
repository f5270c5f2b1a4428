import Foundation

/// A learning rate as a function of the optimizer step (0-based).
public protocol LearningRateSchedule: Sendable {
  /// The learning rate for step `step`.
  func learningRate(at step: Int) -> Float
}

/// The same rate at every step.
public struct ConstantSchedule: LearningRateSchedule {
  public var rate: Float
  public init(_ rate: Float) { self.rate = rate }
  public func learningRate(at step: Int) -> Float { rate }
}

/// `base · gamma^⌊step / stepSize⌋` (PyTorch's `StepLR`).
public struct StepSchedule: LearningRateSchedule {
  public var base: Float, stepSize: Int, gamma: Float
  public init(base: Float, stepSize: Int, gamma: Float = 0.1) {
    precondition(stepSize > 0, "step size must be positive")
    (self.base, self.stepSize, self.gamma) = (base, stepSize, gamma)
  }
  public func learningRate(at step: Int) -> Float {
    base * Float(pow(Double(gamma), Double(step / stepSize)))
  }
}

/// Cosine annealing from `base` to `minimum` over `totalSteps` (PyTorch's
/// `CosineAnnealingLR` with `T_max = totalSteps`, closed form); `minimum` after that.
public struct CosineSchedule: LearningRateSchedule {
  public var base: Float, totalSteps: Int, minimum: Float
  public init(base: Float, totalSteps: Int, minimum: Float = 0) {
    precondition(totalSteps > 0, "total steps must be positive")
    (self.base, self.totalSteps, self.minimum) = (base, totalSteps, minimum)
  }
  public func learningRate(at step: Int) -> Float {
    let t = Double(min(step, totalSteps)) / Double(totalSteps)
    return minimum + (base - minimum) * Float((1 + cos(Double.pi * t)) / 2)
  }
}

/// The one-cycle policy (Smith & Topin, 2018) as PyTorch's `OneCycleLR` with cosine
/// annealing: from `maxRate / divFactor` up to `maxRate` over the first `pctStart` of the
/// steps, then down to `maxRate / divFactor / finalDivFactor` at the last step.
/// Reference: https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.OneCycleLR.html
public struct OneCycleSchedule: LearningRateSchedule {
  public var maxRate: Float, totalSteps: Int, pctStart: Double, divFactor: Float, finalDivFactor: Float
  public init(maxRate: Float, totalSteps: Int, pctStart: Double = 0.3, divFactor: Float = 25, finalDivFactor: Float = 1e4) {
    precondition(totalSteps > 1, "one-cycle needs at least 2 steps")
    (self.maxRate, self.totalSteps, self.pctStart) = (maxRate, totalSteps, pctStart)
    (self.divFactor, self.finalDivFactor) = (divFactor, finalDivFactor)
  }
  public func learningRate(at step: Int) -> Float {
    let initial = Double(maxRate / divFactor), final = initial / Double(finalDivFactor)
    let peakStep = pctStart * Double(totalSteps) - 1, lastStep = Double(totalSteps - 1)
    let s = Double(min(step, totalSteps - 1))
    if s <= peakStep {
      return Float(Self.cosineAnneal(from: initial, to: Double(maxRate), fraction: s / peakStep))
    }
    return Float(Self.cosineAnneal(from: Double(maxRate), to: final, fraction: (s - peakStep) / (lastStep - peakStep)))
  }
  static func cosineAnneal(from start: Double, to end: Double, fraction: Double) -> Double {
    end + (start - end) / 2 * (cos(Double.pi * fraction) + 1)
  }
}

/// Linear warm-up in front of another schedule: for the first `warmupSteps` steps the
/// inner rate is multiplied by a factor rising linearly from `startFactor` to 1
/// (PyTorch's `LinearLR(start_factor, total_iters=warmupSteps)`).
public struct WarmupSchedule: LearningRateSchedule {
  public var inner: any LearningRateSchedule, warmupSteps: Int, startFactor: Float
  public init(_ inner: any LearningRateSchedule, warmupSteps: Int, startFactor: Float = 0.1) {
    (self.inner, self.warmupSteps, self.startFactor) = (inner, warmupSteps, startFactor)
  }
  public func learningRate(at step: Int) -> Float {
    guard step < warmupSteps else { return inner.learningRate(at: step) }
    let factor = startFactor + (1 - startFactor) * Float(step) / Float(warmupSteps)
    return inner.learningRate(at: step) * factor
  }
}
