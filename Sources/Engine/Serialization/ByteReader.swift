/// Reads little-endian values from a byte buffer, checking every length against what is
/// left, so a truncated or hostile file ends in a ``FormatError`` instead of a crash.
struct ByteReader {
  let bytes: UnsafeRawBufferPointer
  private(set) var offset: Int

  init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
    self.bytes = bytes
    self.offset = offset
  }

  /// Bytes left to read.
  var remaining: Int { bytes.count - offset }
  /// True when every byte has been read.
  var isAtEnd: Bool { remaining == 0 }

  /// The next `count` bytes, which must exist.
  mutating func take(_ count: Int, _ what: @autoclosure () -> String) throws -> UnsafeRawBufferPointer {
    guard count >= 0, count <= remaining else {
      throw FormatError("truncated: \(what()) needs \(count) bytes at offset \(offset), \(remaining) left")
    }
    defer { offset += count }
    return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
  }

  mutating func uint8(_ what: @autoclosure () -> String) throws -> UInt8 {
    try take(1, what())[0]
  }

  /// An unsigned little-endian integer of `size` bytes (1, 2, 4 or 8).
  mutating func unsigned(_ size: Int, _ what: @autoclosure () -> String) throws -> UInt64 {
    let raw = try take(size, what())
    var value: UInt64 = 0
    for i in (0..<size).reversed() { value = value << 8 | UInt64(raw[i]) }
    return value
  }

  mutating func uint16(_ what: @autoclosure () -> String) throws -> Int { Int(try unsigned(2, what())) }
  mutating func uint32(_ what: @autoclosure () -> String) throws -> Int { Int(try unsigned(4, what())) }

  /// A little-endian UInt64 that must fit a non-negative Int.
  mutating func uint64(_ what: @autoclosure () -> String) throws -> Int {
    let value = try unsigned(8, what())
    guard value <= UInt64(Int.max) else { throw FormatError("\(what()) is \(value), too large") }
    return Int(value)
  }

  mutating func int32(_ what: @autoclosure () -> String) throws -> Int {
    Int(Int32(bitPattern: UInt32(try unsigned(4, what()))))
  }

  /// A length-prefixed field's bytes decoded as UTF-8.
  mutating func string(_ count: Int, _ what: @autoclosure () -> String) throws -> String {
    let raw = try take(count, what())
    guard let text = String(validating: raw, as: UTF8.self) else { throw FormatError("\(what()) is not UTF-8") }
    return text
  }

  /// Moves to an absolute offset inside the buffer.
  mutating func seek(_ position: Int, _ what: @autoclosure () -> String) throws {
    guard position >= 0, position <= bytes.count else {
      throw FormatError("\(what()) at offset \(position) lies outside the \(bytes.count)-byte file")
    }
    offset = position
  }
}
