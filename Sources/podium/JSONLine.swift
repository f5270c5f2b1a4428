import Foundation

/// One compact JSON object with sorted keys and unescaped slashes: the line format of every
/// `--json` option.
func jsonLine<Value: Encodable>(_ value: Value) throws -> String {
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
  return String(decoding: try encoder.encode(value), as: UTF8.self)
}
