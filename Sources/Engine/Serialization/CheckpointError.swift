/// A checkpoint file that cannot be read: truncated, corrupt, of an unknown format, or
/// asking for something Podium refuses to do (an unknown pickle global, an absurd size).
///
/// The description is one line that names the file: `cannot read resnet18.pth: pickle
/// refers to os.system, which a state dict never needs`.
public struct CheckpointError: Error, CustomStringConvertible, Equatable {
  /// The file, as given.
  public var path: String
  /// What is wrong, in words.
  public var reason: String

  public init(path: String, reason: String) {
    (self.path, self.reason) = (path, reason)
  }

  public var description: String { "cannot read \(path): \(reason)" }
}

/// What went wrong inside a format parser; the reader turns it into a ``CheckpointError``
/// naming the file.
struct FormatError: Error {
  var reason: String
  init(_ reason: String) { self.reason = reason }
}
