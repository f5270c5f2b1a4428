import Engine
import EngineTestSupport
import XCTest

final class OptimizerTests: XCTestCase {
  /// Five steps of each optimizer on the same parameter and gradients as PyTorch.
  func testOptimizers_matchPyTorchStepByStep() throws {
    let fixture = try Fixtures.load("optimizers")
    let start = try fixture.tensor("start")
    let gradients = try XCTUnwrap(fixture["gradients"] as? [Any]).map(Fixtures.tensor(from:))
    let makers: [String: (Parameter) -> any Optimizer] = [
      "sgdNesterov": { SGD([$0], learningRate: 0.1, momentum: 0.9, weightDecay: 1e-2, nesterov: true) },
      "sgdMomentumDampening": { SGD([$0], learningRate: 0.05, momentum: 0.8, dampening: 0.3) },
      "adam": { Adam([$0], learningRate: 1e-2, weightDecay: 1e-2) },
      "adamW": { Adam.adamW([$0], learningRate: 1e-2, weightDecay: 0.1) },
    ]
    try withEvery("optimizer", in: makers.keys.sorted()) { name in
      let expected = try XCTUnwrap(fixture[name] as? [Any]).map(Fixtures.tensor(from:))
      let parameter = Parameter("weight", start)
      let optimizer = makers[name]!(parameter)
      for (step, gradient) in gradients.enumerated() {
        parameter.gradient = gradient
        optimizer.step()
        assertClose(parameter.value, expected[step], relative: 1e-5, absolute: 1e-6, "\(name) step \(step + 1)")
      }
    }
  }

  /// A parameter that the parallel step splits among the workers (here the fixture's six
  /// values tiled 10 007 times, between two small ones) steps every value as PyTorch does.
  func testOptimizers_largeParameters_stepEveryPieceLikePyTorch() throws {
    let fixture = try Fixtures.load("optimizers")
    let start = try fixture.tensor("start")
    let gradients = try XCTUnwrap(fixture["gradients"] as? [Any]).map(Fixtures.tensor(from:))
    let copies = 10_007
    func tiled(_ t: Tensor) -> Tensor { Tensor(shape: [copies * t.count], values: Array([[Float]](repeating: t.scalars, count: copies).joined())) }
    let makers: [String: ([Parameter]) -> any Optimizer] = [
      "sgdNesterov": { SGD($0, learningRate: 0.1, momentum: 0.9, weightDecay: 1e-2, nesterov: true) },
      "adam": { Adam($0, learningRate: 1e-2, weightDecay: 1e-2) },
    ]
    try withEvery("optimizer", in: makers.keys.sorted()) { name in
      let expected = try XCTUnwrap(fixture[name] as? [Any]).map(Fixtures.tensor(from:))
      let large = Parameter("large", tiled(start)), small = [Parameter("first", start), Parameter("last", start)]
      let optimizer = makers[name]!([small[0], large, small[1]])
      for (step, gradient) in gradients.enumerated() {
        large.gradient = tiled(gradient)
        for p in small { p.gradient = gradient }
        optimizer.step()
        assertClose(large.value, tiled(expected[step]), relative: 1e-5, absolute: 1e-6, "\(name) large, step \(step + 1)")
        for p in small { assertClose(p.value, expected[step], relative: 1e-5, absolute: 1e-6, "\(name) \(p.name), step \(step + 1)") }
      }
    }
  }

  func testOptimizers_skipFrozenParametersAndScaleRates() {
    let frozen = Parameter("frozen", Tensor(shape: [2], values: [1, 1]))
    frozen.isTrainable = false
    let slow = Parameter("slow", Tensor(shape: [2], values: [1, 1]))
    slow.learningRateScale = 0.1
    for p in [frozen, slow] { p.gradient = Tensor(shape: [2], values: [1, 1]) }
    SGD([frozen, slow], learningRate: 1).step()
    XCTAssertEqual(frozen.value.scalars, [1, 1])
    XCTAssertEqual(slow.value.scalars, [0.9, 0.9])
  }

  func testSchedules_matchPyTorch() throws {
    let fixture = try Fixtures.load("schedules")
    let schedules: [String: any LearningRateSchedule] = [
      "step": StepSchedule(base: 0.1, stepSize: 3, gamma: 0.5),
      "cosine": CosineSchedule(base: 0.1, totalSteps: 10, minimum: 0.001),
      "oneCycle": OneCycleSchedule(maxRate: 0.1, totalSteps: 20),
      "warmup": WarmupSchedule(ConstantSchedule(0.1), warmupSteps: 5, startFactor: 0.1),
    ]
    try withEvery("schedule", in: schedules.keys.sorted()) { name in
      let expected = try XCTUnwrap(fixture[name] as? [Double]).map(Float.init)
      let actual = expected.indices.map { schedules[name]!.learningRate(at: $0) }
      assertClose(actual, expected, relative: 1e-5, absolute: 1e-9, name)
    }
  }
}
