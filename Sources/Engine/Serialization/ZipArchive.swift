/// The entries of a ZIP archive whose members are stored uncompressed, read in place.
///
/// PyTorch's `torch.save` (≥ 1.6) writes such archives: `archive/data.pkl`, one
/// `archive/data/<key>` per storage, `archive/version`. Only the central directory is
/// parsed, every offset and size is checked against the file, and members are returned
/// as slices of the caller's buffer (no copy; with a memory-mapped file, nothing is read
/// until used). Reference: PKWARE APPNOTE.TXT, sections 4.3.7 (local header), 4.3.12
/// (central directory), 4.3.14–16 (ZIP64 and end of central directory).
struct ZipArchive {
  /// Member name → its stored bytes.
  private(set) var members: [String: UnsafeRawBufferPointer] = [:]

  /// Parses the archive in `bytes`, which must stay valid while the archive is used.
  init(_ bytes: UnsafeRawBufferPointer) throws {
    var (count, directoryOffset) = try Self.endOfCentralDirectory(bytes)
    var reader = ByteReader(bytes)
    try reader.seek(directoryOffset, "central directory")
    guard count <= bytes.count / 46 else { throw FormatError("zip claims \(count) entries, more than fit the file") }
    while count > 0 {
      let (name, data) = try Self.member(&reader, in: bytes)
      members[name] = data
      count -= 1
    }
  }

  /// True when `bytes` starts with a ZIP local file header.
  static func looksLikeZip(_ bytes: UnsafeRawBufferPointer) -> Bool {
    bytes.count >= 4 && bytes[0] == 0x50 && bytes[1] == 0x4B && bytes[2] == 0x03 && bytes[3] == 0x04
  }

  /// Finds the end-of-central-directory record (and its ZIP64 form when present) and
  /// returns the entry count and the central directory's offset.
  private static func endOfCentralDirectory(_ bytes: UnsafeRawBufferPointer) throws -> (Int, Int) {
    let earliest = max(0, bytes.count - 22 - 65_535)
    var position = bytes.count - 22
    while position >= earliest {
      if bytes[position] == 0x50, bytes[position + 1] == 0x4B, bytes[position + 2] == 0x05, bytes[position + 3] == 0x06 {
        var reader = ByteReader(bytes, offset: position + 10)
        let count = try reader.uint16("entry count"), _ = try reader.uint32("directory size")
        let offset = try reader.uint32("directory offset")
        if count == 0xFFFF || offset == 0xFFFF_FFFF { return try zip64Directory(bytes, locatorEnd: position) }
        return (count, offset)
      }
      position -= 1
    }
    throw FormatError("not a zip archive: no end of central directory")
  }

  private static func zip64Directory(_ bytes: UnsafeRawBufferPointer, locatorEnd: Int) throws -> (Int, Int) {
    var locator = ByteReader(bytes, offset: max(0, locatorEnd - 20))
    guard try locator.uint32("zip64 locator") == 0x0706_4B50 else { throw FormatError("zip64 locator missing") }
    _ = try locator.uint32("disk")
    var record = ByteReader(bytes)
    try record.seek(try locator.uint64("zip64 record offset"), "zip64 record")
    guard try record.uint32("zip64 record") == 0x0606_4B50 else { throw FormatError("zip64 record missing") }
    _ = try record.take(20, "zip64 record fields")
    let count = try record.uint64("zip64 entry count")
    _ = try record.uint64("zip64 directory size")
    return (count, try record.uint64("zip64 directory offset"))
  }

  /// Reads one central directory entry and returns the member's name and bytes.
  private static func member(_ reader: inout ByteReader, in bytes: UnsafeRawBufferPointer) throws -> (String, UnsafeRawBufferPointer) {
    guard try reader.uint32("central directory entry") == 0x0201_4B50 else { throw FormatError("corrupt zip central directory") }
    _ = try reader.take(6, "entry versions and flags")
    let method = try reader.uint16("compression method")
    _ = try reader.take(8, "entry time and CRC")
    var compressedSize = try reader.uint32("compressed size"), size = try reader.uint32("size")
    let nameLength = try reader.uint16("name length"), extraLength = try reader.uint16("extra length")
    let commentLength = try reader.uint16("comment length")
    _ = try reader.take(8, "entry attributes")
    var localOffset = try reader.uint32("local header offset")
    let name = try reader.string(nameLength, "member name")
    var extra = ByteReader(try reader.take(extraLength, "extra field"))
    try readZip64Sizes(&extra, size: &size, compressedSize: &compressedSize, offset: &localOffset)
    _ = try reader.take(commentLength, "entry comment")
    guard method == 0, compressedSize == size else {
      throw FormatError("zip member \(name) is compressed (method \(method)); PyTorch checkpoints store members uncompressed")
    }
    var local = ByteReader(bytes)
    try local.seek(localOffset, "local header of \(name)")
    guard try local.uint32("local header") == 0x0403_4B50 else { throw FormatError("corrupt local header for \(name)") }
    _ = try local.take(22, "local header fields")
    let localName = try local.uint16("local name length"), localExtra = try local.uint16("local extra length")
    _ = try local.take(localName + localExtra, "local name and extra")
    return (name, try local.take(size, "data of \(name)"))
  }

  /// Replaces 0xFFFFFFFF sizes and offset with the values of a ZIP64 extra field.
  private static func readZip64Sizes(_ extra: inout ByteReader, size: inout Int, compressedSize: inout Int, offset: inout Int) throws {
    while extra.remaining >= 4 {
      let tag = try extra.uint16("extra tag"), length = try extra.uint16("extra length")
      var field = ByteReader(try extra.take(length, "extra data"))
      guard tag == 0x0001 else { continue }
      if size == 0xFFFF_FFFF { size = try field.uint64("zip64 size") }
      if compressedSize == 0xFFFF_FFFF { compressedSize = try field.uint64("zip64 compressed size") }
      if offset == 0xFFFF_FFFF { offset = try field.uint64("zip64 offset") }
    }
  }
}
