/// A hyperparameter's value as a spec or a flag gives it, before the table checks it.
public enum ParameterValue: Equatable, Hashable, Sendable, Codable, CustomStringConvertible {
  case text(String)
  case number(Double)

  /// A plain scalar as YAML and the command line write it: a number when it reads as one,
  /// text otherwise.
  public init(parsing text: String) {
    if let number = Double(text) { self = .number(number) } else { self = .text(text) }
  }

  public var description: String {
    switch self {
    case .text(let text): return text
    case .number(let value): return value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
  }
}

/// A value that does not suit its hyperparameter: `problem` says what is allowed, and the
/// caller names the key as its user wrote it (`lr` in a spec, `--lr` on the command line).
public struct HyperparameterError: Error, CustomStringConvertible {
  public var key: Hyperparameter
  public var problem: String

  public init(_ key: Hyperparameter, _ problem: String) {
    (self.key, self.problem) = (key, problem)
  }

  /// `lr must be a number > 0, got 0`.
  public var description: String { "\(key.rawValue) \(problem)" }
}
