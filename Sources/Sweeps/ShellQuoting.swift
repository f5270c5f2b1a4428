/// `text` as one word for a POSIX shell: in single quotes, with each `'` written `'\''`.
public func shellQuoted(_ text: String) -> String {
  "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
}
