/// Updates trainable parameters from their accumulated gradients.
///
/// An optimizer holds the parameters it was given and their per-parameter state
/// (momentum, moment estimates). Frozen parameters (``Parameter/isTrainable`` false) are
/// skipped; each parameter's ``Parameter/learningRateScale`` multiplies the rate.
public protocol Optimizer: AnyObject {
  /// The base learning rate; schedules set it before each step.
  var learningRate: Float { get set }
  /// Applies one update to every trainable parameter.
  func step()
}

extension Optimizer {
  /// Sets the learning rate from `schedule` for `step`, then takes the step.
  public func step(following schedule: any LearningRateSchedule, at step: Int) {
    learningRate = schedule.learningRate(at: step)
    self.step()
  }
}

/// Runs `body(value, gradient, state, count)` over the raw values of each trainable
/// parameter and its state buffers, creating zeroed state on first use.
func forEachTrainable(
  _ parameters: [Parameter], state: inout [[Tensor]], buffers: Int,
  _ body: (Parameter, UnsafeMutablePointer<Float>, UnsafePointer<Float>, [UnsafeMutablePointer<Float>], Int) -> Void
) {
  if state.isEmpty {
    state = parameters.map { p in (0..<buffers).map { _ in Tensor(shape: p.value.shape) } }
  }
  for (index, parameter) in parameters.enumerated() where parameter.needsGradient {
    let value = parameter.value.mutablePointer()
    let stateBuffers = (0..<buffers).map { state[index][$0].mutablePointer() }
    body(parameter, value, parameter.gradient.pointer, stateBuffers, parameter.value.count)
  }
}
