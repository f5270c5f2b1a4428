/// File names made from names users choose (sweeps, datasets).
public enum FileNames {
  /// `name` as one safe path component: anything but letters, digits, `-`, `_` and `.`
  /// becomes `_`, and it never starts with a dot.
  public static func safe(_ name: String) -> String {
    let cleaned = String(name.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "_" })
    return cleaned.isEmpty || cleaned.hasPrefix(".") ? "_" + cleaned : cleaned
  }
}
