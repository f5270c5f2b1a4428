/// HTML escaping: every string a report embeds goes through here, so a class named
/// `<script>alert(1)</script>` renders as text.
public enum HTML {
  /// `text` with `& < > " '` replaced by entities; safe in element content and in quoted
  /// attribute values.
  public static func escape(_ text: String) -> String {
    var escaped = ""
    escaped.reserveCapacity(text.utf8.count)
    for character in text {
      switch character {
      case "&": escaped += "&amp;"
      case "<": escaped += "&lt;"
      case ">": escaped += "&gt;"
      case "\"": escaped += "&quot;"
      case "'": escaped += "&#39;"
      default: escaped.append(character)
      }
    }
    return escaped
  }

  /// A definition list of `(term, description)` pairs, both escaped.
  public static func definitionList(_ items: [(String, String)]) -> String {
    "<dl>" + items.map { "<dt>\(escape($0.0))</dt><dd>\(escape($0.1))</dd>" }.joined() + "</dl>"
  }

  /// An element with escaped text content.
  public static func element(_ tag: String, _ text: String, class className: String? = nil) -> String {
    "<\(tag)\(className.map { " class=\"\(escape($0))\"" } ?? "")>\(escape(text))</\(tag)>"
  }
}
