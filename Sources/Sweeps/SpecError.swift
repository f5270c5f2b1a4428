/// A sweep spec that cannot be used; one line naming the file, the line and the key.
public struct SpecError: Error, CustomStringConvertible, Equatable {
  public var file: String
  public var line: Int?
  public var message: String

  public init(file: String, line: Int?, _ message: String) {
    (self.file, self.line, self.message) = (file, line, message)
  }

  public var description: String {
    line.map { "\(file) line \($0): \(message)" } ?? "\(file): \(message)"
  }
}
