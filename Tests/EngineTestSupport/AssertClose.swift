import Engine
import XCTest

/// Named tolerances for float32 comparisons (tinygrad's defaults): forward values agree to
/// `rtol 1e-3`/`atol 1e-5`; analytic and reference gradients to `rtol 1e-3`/`atol 1e-4`.
public enum Tolerance {
  public static let forward = (relative: 1e-3, absolute: 1e-5)
  public static let gradient = (relative: 1e-3, absolute: 1e-4)
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
