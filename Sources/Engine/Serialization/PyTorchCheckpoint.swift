/// Reads PyTorch `torch.save` files of a state dict, in both formats.
///
/// - The zip format (torch ≥ 1.6): `<name>/data.pkl` is the state-dict pickle; each tensor
///   refers by persistent id `('storage', StorageType, key, location, numel)` to the
///   member `<name>/data/<key>`.
/// - The legacy format (torch < 1.6, or `_use_new_zipfile_serialization=False`): five
///   objects in a row — a pickled magic number, the protocol version (1001), a system-info
///   dict, the state-dict pickle (persistent ids
///   `('storage', StorageType, root_key, location, numel, view_metadata)`), and a pickled
///   list of storage keys; then, for each key in that order, the element count as a
///   little-endian Int64 followed by the raw elements.
///
/// Reference: `torch/serialization.py` (`_save`, `_legacy_save`, `_legacy_load`).
enum PyTorchCheckpoint {
  /// The legacy format's magic number, 0x1950a86a20f9469cfc6c, little-endian.
  static let legacyMagic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]

  /// True when `bytes` starts like a legacy checkpoint (a protocol-2 pickle of the magic).
  static func looksLikeLegacy(_ bytes: UnsafeRawBufferPointer) -> Bool {
    bytes.count >= 14 && bytes[0] == 0x80 && bytes[2] == 0x8A && bytes[3] == 0x0A
      && Array(bytes[4..<14]) == legacyMagic
  }

  // MARK: - Zip

  static func readZip(_ bytes: UnsafeRawBufferPointer) throws -> [(String, StoredTensor)] {
    let archive = try ZipArchive(bytes)
    guard let pickleName = archive.members.keys.sorted().first(where: { $0.hasSuffix("data.pkl") }),
      let pickle = archive.members[pickleName]
    else { throw FormatError("zip archive has no data.pkl: not a PyTorch checkpoint") }
    let prefix = String(pickleName.dropLast("data.pkl".count))
    var unpickler = Unpickler(ByteReader(pickle)) { pid in
      .storage(try storageReference(pid, legacy: false, fileBytes: bytes.count))
    }
    let root = try unpickler.load()
    return try tensors(in: root) { reference in
      guard let block = archive.members[prefix + "data/" + reference.storage.key] else {
        throw FormatError("storage \(reference.storage.key) is missing from the archive")
      }
      return block
    }
  }

  // MARK: - Legacy

  static func readLegacy(_ bytes: UnsafeRawBufferPointer) throws -> [(String, StoredTensor)] {
    var unpickler = Unpickler(ByteReader(bytes))
    guard case .bigInt(let magic) = try unpickler.load(), magic == legacyMagic else {
      throw FormatError("wrong magic number for a legacy PyTorch checkpoint")
    }
    unpickler = Unpickler(unpickler.position)
    guard case .int(1001) = try unpickler.load() else { throw FormatError("unsupported legacy protocol version") }
    unpickler = Unpickler(unpickler.position)
    try checkLittleEndian(try unpickler.load())
    var dtypes: [String: StorageDType] = [:]
    unpickler = Unpickler(unpickler.position) { pid in
      let reference = try storageReference(pid, legacy: true, fileBytes: bytes.count)
      dtypes[reference.key] = reference.dtype
      return .storage(reference)
    }
    let root = try unpickler.load()
    unpickler = Unpickler(unpickler.position)
    let keys = try storageKeys(try unpickler.load())
    var reader = unpickler.position
    var blocks: [String: UnsafeRawBufferPointer] = [:]
    for key in keys {
      guard let dtype = dtypes[key] else { throw FormatError("storage \(key) is listed but no tensor uses it") }
      let count = try reader.uint64("element count of storage \(key)")
      let (byteCount, overflow) = count.multipliedReportingOverflow(by: dtype.size)
      guard !overflow else { throw FormatError("storage \(key) claims \(count) elements") }
      blocks[key] = try reader.take(byteCount, "storage \(key)")
    }
    return try tensors(in: root) { reference in
      guard let block = blocks[reference.storage.key] else {
        throw FormatError("storage \(reference.storage.key) is missing from the file")
      }
      return block
    }
  }

  private static func checkLittleEndian(_ systemInfo: PickleValue) throws {
    guard case .dict(let info) = systemInfo else { throw FormatError("legacy system info is not a dict") }
    for (key, value) in info.items {
      if case .string("little_endian") = key, case .bool(false) = value {
        throw FormatError("checkpoint was written on a big-endian machine")
      }
    }
  }

  private static func storageKeys(_ value: PickleValue) throws -> [String] {
    guard case .list(let list) = value else { throw FormatError("legacy storage key list is a \(value.kind)") }
    return try list.items.map { item in
      guard case .string(let key) = item else { throw FormatError("storage key is a \(item.kind)") }
      return key
    }
  }

  // MARK: - Shared

  /// Decodes a persistent id into the storage it names; its element count must fit in the
  /// `fileBytes` of the whole file, so later size arithmetic cannot overflow.
  static func storageReference(_ pid: PickleValue, legacy: Bool, fileBytes: Int) throws -> StorageReference {
    guard case .tuple(let tuple) = pid, case let fields = tuple.items, fields.count >= 5, case .string("storage") = fields[0],
      case .global(_, let storageClass) = fields[1], case .string(let key) = fields[2],
      case .int(let count) = fields[4], count >= 0
    else { throw FormatError("unexpected persistent id in the pickle") }
    guard let dtype = StorageDType(storageClass: storageClass) else {
      throw FormatError("unsupported storage type \(storageClass)")
    }
    guard count <= fileBytes / dtype.size else {
      throw FormatError("storage \(key) claims \(count) elements, more than the \(fileBytes)-byte file holds")
    }
    var reference = StorageReference(key: key, dtype: dtype, count: count)
    if legacy, fields.count >= 6, case .tuple(let viewTuple) = fields[5] {  // (view_key, offset, view_size)
      let view = viewTuple.items
      guard view.count == 3, case .int(let offset) = view[1], case .int(let viewSize) = view[2],
        offset >= 0, viewSize >= 0, offset <= count - viewSize
      else { throw FormatError("storage view of \(key) lies outside its storage") }
      reference.elementOffset = offset
      reference.count = viewSize
    }
    return reference
  }

  /// The `name → tensor` entries of a state dict (or of the `state_dict` / `model` entry of
  /// a training checkpoint that wraps one), in order, each with its storage's bytes
  /// (found by `block`) checked to hold it.
  static func tensors(
    in root: PickleValue, block: (TensorReference) throws -> UnsafeRawBufferPointer
  ) throws -> [(String, StoredTensor)] {
    guard case .dict(let dict) = root else { throw FormatError("the pickle holds a \(root.kind), not a state dict") }
    var result: [(String, StoredTensor)] = []
    for (key, value) in dict.items {
      guard case .string(let name) = key else { continue }
      if case .tensor(let reference) = value {
        let bytes = try block(reference)
        try StorageDecoding.validate(reference, block: bytes)
        result.append((name, StoredTensor(reference: reference, block: bytes)))
      } else if ["state_dict", "model", "model_state_dict"].contains(name), case .dict = value, result.isEmpty {
        return try tensors(in: value, block: block)
      }
    }
    guard !result.isEmpty else { throw FormatError("the state dict holds no tensors") }
    return result
  }
}
