/// A tensor reached a module boundary (a layer's input, a loaded parameter) with a shape
/// the module cannot take.
///
/// The description names the place and both shapes:
/// `conv1 input: expected [N, H, W, 3], got [8, 224, 224, 4]`.
public struct ShapeError: Error, CustomStringConvertible, Equatable {
  /// Where the mismatch happened (a layer or parameter name, and what was checked).
  public var context: String
  /// The shape the module expects, with letters for free dimensions, e.g. `[N, H, W, 3]`.
  public var expected: String
  /// The shape that arrived.
  public var actual: [Int]

  /// Creates an error from a description of the expected shape and the actual one.
  public init(context: String, expected: String, actual: [Int]) {
    self.context = context
    self.expected = expected
    self.actual = actual
  }

  /// Creates an error for two concrete shapes.
  public init(context: String, expected: [Int], actual: [Int]) {
    self.init(context: context, expected: "\(expected)", actual: actual)
  }

  public var description: String {
    "\(context): expected \(expected), got \(actual)"
  }
}
