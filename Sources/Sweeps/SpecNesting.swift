/// How deeply a YAML text nests, judged from the text before any parser sees it: the YAML
/// parser recurses once per level, so a few thousand nested `{` (found by the spec fuzzer)
/// overflowed the stack. A sweep spec needs four or five levels.
enum SpecNesting {
  /// The most levels a spec may nest.
  static let maxDepth = 64
  /// The largest spec text read (a spec is a few hundred bytes).
  static let maxBytes = 1 << 20

  /// The first line at which `text` nests deeper than ``maxDepth``, or nil: flow brackets
  /// (`{`, `[`) outside quotes and comments, plus block levels (a stack of indentations,
  /// and one level per leading `- ` or `? ` on a line).
  static func lineTooDeep(_ text: String) -> Int? {
    var flow = 0, indents: [Int] = []
    for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let characters = Array(line)
      var column = 0
      while column < characters.count, characters[column] == " " { column += 1 }
      guard column < characters.count, characters[column] != "#" else { continue }
      if flow == 0 {
        while let last = indents.last, last >= column { indents.removeLast() }
        indents.append(column)
      }
      var items = 0, index = column
      while index + 1 < characters.count, "-?".contains(characters[index]), characters[index + 1] == " " {
        items += 1
        index += 2
        while index < characters.count, characters[index] == " " { index += 1 }
      }
      var quote: Character?
      for character in characters[index...] {
        if let open = quote {
          if character == open { quote = nil }
          continue
        }
        switch character {
        case "\"", "'": quote = character
        case "#": break
        case "{", "[": flow += 1
        case "}", "]": flow = max(0, flow - 1)
        default: continue
        }
        if character == "#" { break }
        if flow + indents.count + items > maxDepth { return number + 1 }
      }
      if flow + indents.count + items > maxDepth { return number + 1 }
    }
    return nil
  }
}
