import Engine
import XCTest

/// Named tolerances for float32 comparisons: element-wise values agree to tinygrad's
/// `rtol 1e-3`/`atol 1e-5`; sums of products agree in units of the tensor's scale.
public enum Tolerance {
  public static let forward = (relative: 1e-3, absolute: 1e-5)

  /// Float32 sums of up to a few thousand products, in any order, against Double sums or
  /// PyTorch's Float32, in units of the tensor's scale (``scaledError(_:_:)``). The worst
  /// measured over `EngineTests` under `OPENBLAS_CORETYPE` Prescott,
  /// Haswell, SkylakeX and Zen was 6.0·10⁻⁷ (a 40×300×200 GEMM); a missing term is of the
  /// order of 10⁻¹.
  public static let summation = 1e-5

  /// Winograd F(4×4, 3×3) in Float32 against the Double direct sums, in units of the
  /// tensor's scale. Its transforms scale values by up to 5 (the points ±2) before the
  /// products are summed and the output transform adds 6 terms with weights up to 8, so its
  /// error is about ten times a plain sum's: the worst measured, on the same runs, was
  /// 4.8·10⁻⁶ (forward, input and weight gradients alike). Broken once on purpose: a filter
  /// transform coefficient of 1/4.01 instead of 1/4 gave 1.9·10⁻³, a dropped input-transform
  /// term 0.34.
  public static let winograd = 5e-5
}

/// The largest `|actual − expected|` over the largest `|expected|`: the error in units of
/// the tensor's scale. A Float32 sum of products in another order (another BLAS kernel,
/// another blocking, Winograd's transforms) is off by a multiple of the sum's magnitude
/// rather than of each element's, so an element near zero in a tensor of large values
/// carries the same absolute error as the rest; this measure does not punish it.
public func scaledError(_ actual: [Float], _ expected: [Float]) -> Double {
  let scale = expected.reduce(0.0) { max($0, abs(Double($1))) }
  let worst = zip(actual, expected).reduce(0.0) { max($0, abs(Double($1.0) - Double($1.1))) }
  return worst / max(scale, Double.leastNormalMagnitude)
}

/// Asserts `|actual − expected| ≤ tolerance · max |expected|` for every element; a failure
/// reports the measured ``scaledError(_:_:)`` beside the worst element.
public func assertClose(
  _ actual: [Float], _ expected: [Float], scaled tolerance: Double, _ message: String = "",
  file: StaticString = #filePath, line: UInt = #line
) {
  let scale = expected.reduce(0.0) { max($0, abs(Double($1))) }
  let measured = actual.count == expected.count ? "error \(scaledError(actual, expected)) of the scale \(scale)" : ""
  assertClose(actual, expected, relative: 0, absolute: tolerance * scale, "\(message) (\(measured), allowed \(tolerance))",
              file: file, line: line)
}

/// Asserts two tensors have the same shape and values within `tolerance` of the expected
/// tensor's scale (``assertClose(_:_:scaled:_:file:line:)``).
public func assertClose(
  _ actual: Tensor, _ expected: Tensor, scaled tolerance: Double, _ message: String = "",
  file: StaticString = #filePath, line: UInt = #line
) {
  XCTAssertEqual(actual.shape, expected.shape, "\(message): shape", file: file, line: line)
  assertClose(actual.scalars, expected.scalars, scaled: tolerance, message, file: file, line: line)
}

/// Asserts `|actual − expected| ≤ absolute + relative · |expected|` for every element. On
/// failure it reports the count of bad elements, the worst one with its index, and the
/// first pairs (llm.c's `check_tensor`).
public func assertClose(
  _ actual: [Float], _ expected: [Float], relative: Double = Tolerance.forward.relative,
  absolute: Double = Tolerance.forward.absolute, _ message: String = "",
  file: StaticString = #filePath, line: UInt = #line
) {
  let message = ActiveLabels.prefixed(message)
  guard actual.count == expected.count else {
    XCTFail("\(message): \(actual.count) values, expected \(expected.count)", file: file, line: line)
    return
  }
  var bad = 0, worst = (index: 0, excess: 0.0)
  for (index, (a, e)) in zip(actual, expected).enumerated() {
    let difference = abs(Double(a) - Double(e))
    let allowed = absolute + relative * abs(Double(e))
    if !(difference <= allowed) {
      bad += 1
      if difference - allowed > worst.excess || worst.excess == 0 { worst = (index, difference - allowed) }
    }
  }
  guard bad > 0 else { return }
  let pairs = zip(actual, expected).prefix(5).map { "(\($0), \($1))" }.joined(separator: " ")
  XCTFail(
    "\(message): \(bad) of \(actual.count) values differ; worst at \(worst.index): "
      + "\(actual[worst.index]) vs \(expected[worst.index]); first pairs \(pairs)",
    file: file, line: line)
}

/// Asserts two tensors have the same shape and close values.
public func assertClose(
  _ actual: Tensor, _ expected: Tensor, relative: Double = Tolerance.forward.relative,
  absolute: Double = Tolerance.forward.absolute, _ message: String = "",
  file: StaticString = #filePath, line: UInt = #line
) {
  XCTAssertEqual(actual.shape, expected.shape, "\(message): shape", file: file, line: line)
  assertClose(actual.scalars, expected.scalars, relative: relative, absolute: absolute, message, file: file, line: line)
}

/// Runs `body` for every value, labelling failures with `label = value` (swift-collections'
/// `withEvery`), so a failing combination names itself: ``assertClose`` and
/// ``checkGradients(of:input:step:tolerance:maxChecked:seed:evaluate:file:line:)``
/// prefix their messages with the active labels, and an error thrown by `body` is
/// rethrown wrapped in a ``LabelledError``.
public func withEvery<S: Sequence>(
  _ label: String, in values: S, _ body: (S.Element) throws -> Void
) rethrows {
  for value in values {
    ActiveLabels.stack.append("\(label) = \(value)")
    defer { ActiveLabels.stack.removeLast() }
    do {
      try body(value)
    } catch let error as LabelledError {
      throw error
    } catch {
      throw LabelledError(labels: ActiveLabels.description, underlying: error)
    }
  }
}

/// An error thrown inside ``withEvery(_:in:_:)``, with the combination that threw.
public struct LabelledError: Error, CustomStringConvertible {
  public var labels: String
  public var underlying: any Error
  public var description: String { "[\(labels)] \(underlying)" }
}

/// The labels of the enclosing ``withEvery(_:in:_:)`` calls (tests run on one thread).
enum ActiveLabels {
  nonisolated(unsafe) static var stack: [String] = []
  static var description: String { stack.joined(separator: ", ") }
  /// `message` prefixed with the active labels, if any.
  static func prefixed(_ message: String) -> String {
    stack.isEmpty ? message : "[\(description)] \(message)"
  }
}
