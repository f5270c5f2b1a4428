import ArgumentParser
import Foundation

// Helpers every subcommand shares: adapter options, JSON lines, notes on standard error.

/// `--option key=value` flags as a dictionary.
///
/// - Throws: `ValidationError` naming an option without `=`.
func adapterOptions(_ options: [String]) throws -> [String: String] {
  var parsed: [String: String] = [:]
  for option in options {
    guard let equals = option.firstIndex(of: "=") else { throw ValidationError("--option \(option) is not key=value") }
    parsed[String(option[..<equals])] = String(option[option.index(after: equals)...])
  }
  return parsed
}

/// One compact JSON object with sorted keys and unescaped slashes: the line format of every
/// `--json` option.
func jsonLine<Value: Encodable>(_ value: Value) throws -> String {
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
  return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// Writes one line to standard error (progress and notes; results go to standard output).
func printToStandardError(_ line: String) {
  FileHandle.standardError.write(Data((line + "\n").utf8))
}
