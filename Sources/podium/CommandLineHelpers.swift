import ArgumentParser
import Datasets
import Foundation

// Helpers every subcommand shares: adapter options, JSON lines, notes on standard error.

/// The dataset `--dataset ADAPTER:PATH` names, read with its `--option` flags (and groups
/// from `groupColumn`, for grouped folds).
///
/// - Throws: `ValidationError` for an unknown adapter; the adapter's errors.
func loadDataset(_ text: String, options: [String], groupColumn: String? = nil) throws -> (DatasetAdapter, Dataset) {
  guard let colon = text.firstIndex(of: ":") else { throw ValidationError("--dataset must be ADAPTER:PATH, got \(text)") }
  guard let adapter = DatasetAdapter(rawValue: String(text[..<colon])) else {
    throw ValidationError("unknown adapter \(text[..<colon]); see `podium datasets list`")
  }
  let root = URL(fileURLWithPath: String(text[text.index(after: colon)...]))
  return (adapter, try adapter.load(root: root, options: try adapterOptions(options), groupColumn: groupColumn))
}

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
