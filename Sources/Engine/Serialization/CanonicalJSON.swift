import Foundation

/// JSON as Podium stores it: keys sorted, so equal values always give equal bytes (a run's
/// stored parameters are how the store recognises a run it already planned).
public enum CanonicalJSON {
  /// `value` encoded with sorted keys.
  public static func data<T: Encodable>(_ value: T) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return try encoder.encode(value)
  }

  /// `value` encoded with sorted keys, as UTF-8 text.
  public static func string<T: Encodable>(_ value: T) throws -> String {
    String(decoding: try data(value), as: UTF8.self)
  }
}
