import ArgumentParser

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
