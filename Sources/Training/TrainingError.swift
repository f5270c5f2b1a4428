/// A training run that cannot go on: one line with the reason.
public struct TrainingError: Error, CustomStringConvertible, Equatable {
  public var description: String
  public init(_ description: String) { self.description = description }
}
