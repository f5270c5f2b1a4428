import Engine
import XCTest

/// Checks a layer's backward pass against central finite differences.
///
/// The scalar checked is `L = Σ y · R` for a fixed random `R`, accumulated in Double, so
/// `dL/dy = R` is what backward receives. For each of at most `maxChecked` sampled input
/// values and values of each trainable parameter, the numeric derivative
/// `(L(x + h) − L(x − h)) / 2h` is compared with the analytic one; the error is the
/// relative norm `‖analytic − numeric‖ / max(‖analytic‖, ‖numeric‖)` (ggml's nmse in spirit)
/// and must not exceed `tolerance`. Inputs must keep every sample at least `h` away from
/// kinks (ReLU at 0, max-pool ties): ggml's `grad_expect` skips such points; here the
/// inputs are built without them.
///
/// - Parameters:
///   - evaluate: computes the output for the finite differences; defaults to the layer's
///     forward. Dropout passes a fresh layer with the same seed, so every evaluation draws
///     the same mask.
public func checkGradients(
  of layer: any Layer, input: Tensor, step h: Float = 1e-2, tolerance: Double = 1e-2,
  maxChecked: Int = 48, seed: UInt64 = 11,
  evaluate: ((Tensor) throws -> Tensor)? = nil,
  file: StaticString = #filePath, line: UInt = #line
) throws {
  let evaluate = evaluate ?? { try layer.forward($0) }
  layer.zeroGradients()
  let output = try layer.forward(input)
  var rng = SeededGenerator(seed: seed)
  let projection = Tensor.randomUniform(shape: output.shape, bound: 1, rng: &rng)
  let dX = try XCTUnwrap(layer.backward(projection, needsInputGradient: true), file: file, line: line)
  let loss = { (x: Tensor) throws -> Double in
    let y = try evaluate(x)
    return zip(y.scalars, projection.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
  }
  // Input gradient.
  var x = input
  let inputIndices = sampleIndices(input.count, maxChecked, &rng)
  let numericInput = try inputIndices.map { i in
    try centralDifference(at: i, of: { x }, set: { x = $0 }, step: h) { try loss(x) }
  }
  report("input", analytic: inputIndices.map { dX.scalars[$0] }, numeric: numericInput,
         tolerance: tolerance, file: file, line: line)
  // Parameter gradients.
  for (name, parameter) in layer.namedParameters() where parameter.needsGradient {
    let indices = sampleIndices(parameter.value.count, maxChecked, &rng)
    let numeric = try indices.map { i in
      try centralDifference(at: i, of: { parameter.value }, set: { parameter.value = $0 }, step: h) {
        try loss(input)
      }
    }
    report(name, analytic: indices.map { parameter.gradient.scalars[$0] }, numeric: numeric,
           tolerance: tolerance, file: file, line: line)
  }
}

/// `(L(t + h·eᵢ) − L(t − h·eᵢ)) / 2h`, where `get`/`set` read and replace the tensor `t`.
private func centralDifference(
  at index: Int, of get: () -> Tensor, set: (Tensor) -> Void, step h: Float, _ loss: () throws -> Double
) throws -> Double {
  let original = get()
  func shifted(_ delta: Float) -> Tensor {
    var copy = original
    copy.withUnsafeMutableBufferPointer { $0[index] += delta }
    return copy
  }
  set(shifted(h))
  let plus = try loss()
  set(shifted(-h))
  let minus = try loss()
  set(original)
  return (plus - minus) / (2 * Double(h))
}

private func sampleIndices(_ count: Int, _ maxChecked: Int, _ rng: inout SeededGenerator) -> [Int] {
  guard count > maxChecked else { return Array(0..<count) }
  return (0..<maxChecked).map { _ in Int(rng.next() % UInt64(count)) }
}

private func report(
  _ what: String, analytic: [Float], numeric: [Double], tolerance: Double,
  file: StaticString, line: UInt
) {
  var difference = 0.0, analyticNorm = 0.0, numericNorm = 0.0
  for (a, n) in zip(analytic, numeric) {
    difference += (Double(a) - n) * (Double(a) - n)
    analyticNorm += Double(a) * Double(a)
    numericNorm += n * n
  }
  let scale = max(analyticNorm.squareRoot(), numericNorm.squareRoot(), 1e-12)
  let error = difference.squareRoot() / scale
  if !(error <= tolerance) {
    let pairs = zip(analytic, numeric).prefix(4).map { "(\($0), \($1))" }.joined(separator: " ")
    XCTFail(ActiveLabels.prefixed("gradient of \(what): relative error \(error) > \(tolerance); analytic vs numeric \(pairs)"),
            file: file, line: line)
  }
}

/// Inputs for gradient checks that keep clear of kinks: each value is at least `margin`
/// away from 0 and from 6 (ReLU6's ceiling), and all values are distinct by at least
/// `margin` (no max-pool ties). Values are a seeded permutation of an evenly spaced grid.
public func kinkFreeInput(shape: [Int], seed: UInt64, margin: Float = 0.05, spread: Float = 8) -> Tensor {
  let count = Tensor.elementCount(shape)
  var rng = SeededGenerator(seed: seed)
  var values = (0..<count).map { Float($0) }
  values.shuffle(using: &rng)
  let spacing = max(spread / Float(max(count, 1)), 4 * margin)
  let mapped = values.map { v -> Float in
    // Grid points near a kink move half a spacing: still `margin` from every neighbour.
    var x = -spread / 2 + (v + 0.5) * spacing
    if abs(x) < margin || abs(x - 6) < margin { x += spacing / 2 }
    return x
  }
  return Tensor(shape: shape, values: mapped)
}
