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
  /// The per-parameter buffers (named `<parameter index>.<buffer>`, trainable parameters
  /// only) and the number of steps taken, for a checkpoint.
  func checkpointState() -> (tensors: [(name: String, tensor: Tensor)], steps: Int)
  /// Restores what ``checkpointState()`` saved, so training continues exactly where it was.
  ///
  /// - Throws: ``ShapeError`` when a buffer does not fit its parameter.
  func restore(tensors: [String: Tensor], steps: Int) throws
}

/// The named buffers of the trainable parameters' state.
func namedState(_ parameters: [Parameter], _ state: [[Tensor]]) -> [(name: String, tensor: Tensor)] {
  guard !state.isEmpty else { return [] }
  return parameters.indices.filter { parameters[$0].needsGradient }.flatMap { index in
    state[index].enumerated().map { (name: "\(index).\($0.offset)", tensor: $0.element) }
  }
}

/// State buffers rebuilt from named tensors: zero where none was saved.
func restoredState(_ parameters: [Parameter], buffers: Int, from tensors: [String: Tensor]) throws -> [[Tensor]] {
  guard !tensors.isEmpty, buffers > 0 else { return [] }
  return try parameters.enumerated().map { index, parameter in
    try (0..<buffers).map { buffer in
      guard let saved = tensors["\(index).\(buffer)"] else { return Tensor(shape: parameter.value.shape) }
      guard saved.shape == parameter.value.shape else {
        throw ShapeError(context: "optimizer state \(index).\(buffer)", expected: parameter.value.shape, actual: saved.shape)
      }
      return saved
    }
  }
}

extension Optimizer {
  /// Sets the learning rate from `schedule` for `step`, then takes the step.
  public func step(following schedule: any LearningRateSchedule, at step: Int) {
    learningRate = schedule.learningRate(at: step)
    self.step()
  }
}

/// Runs `body(parameter, value, gradient, state, count)` over the raw values of every trainable
/// parameter and its state buffers, creating zeroed state on first use. The values of all
/// parameters, one after another, are split evenly among the workers, so `body` may see a
/// parameter's values in pieces (pointers into the same offset of the value, its gradient
/// and its state) and must treat every value on its own.
func forEachTrainable(
  _ parameters: [Parameter], state: inout [[Tensor]], buffers: Int,
  _ body: (Parameter, UnsafeMutablePointer<Float>, UnsafePointer<Float>, [UnsafeMutablePointer<Float>], Int) -> Void
) {
  if state.isEmpty {
    state = parameters.map { p in (0..<buffers).map { _ in Tensor(shape: p.value.shape) } }
  }
  // The pointers are taken here, on one thread: `mutablePointer()` may copy a shared value.
  var trainable: [(parameter: Parameter, value: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>, state: [UnsafeMutablePointer<Float>], first: Int)] = []
  var total = 0
  for (index, parameter) in parameters.enumerated() where parameter.needsGradient {
    let stateBuffers = (0..<buffers).map { state[index][$0].mutablePointer() }
    trainable.append((parameter, parameter.value.mutablePointer(), parameter.gradient.pointer, stateBuffers, total))
    total += parameter.value.count
  }
  Parallel.forEachRange(total) { range in
    // The parameters that overlap `range`, each clipped to it.
    var index = trainable.lastIndex { $0.first <= range.lowerBound } ?? 0
    while index < trainable.count, trainable[index].first < range.upperBound {
      let t = trainable[index], count = t.parameter.value.count
      let from = max(range.lowerBound - t.first, 0), to = min(range.upperBound - t.first, count)
      if from < to { body(t.parameter, t.value + from, t.gradient + from, t.state.map { $0 + from }, to - from) }
      index += 1
    }
  }
}
