import Foundation

/// The `.safetensors` format: an 8-byte little-endian header length, a JSON header
/// `{"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...,
/// "__metadata__": {...}}`, then the raw little-endian tensor data.
/// Reference: https://github.com/huggingface/safetensors (format description in README).
enum Safetensors {
  /// The largest header accepted (the format's own limit is 100 MB).
  static let maxHeaderBytes = 100_000_000

  static let dtypes: [String: StorageDType] = [
    "F32": .float32, "F64": .float64, "F16": .float16, "BF16": .bfloat16, "I64": .int64,
    "I32": .int32, "I16": .int16, "I8": .int8, "U8": .uint8, "BOOL": .bool,
  ]

  /// True when the bytes start with a plausible header length followed by `{`.
  static func looksLikeSafetensors(_ bytes: UnsafeRawBufferPointer) -> Bool {
    guard bytes.count >= 10 else { return false }
    var reader = ByteReader(bytes)
    guard let length = try? reader.uint64("header length") else { return false }
    return length >= 2 && bytes[8] == UInt8(ascii: "{")
  }

  /// Reads every tensor and the `__metadata__` strings.
  static func read(_ bytes: UnsafeRawBufferPointer) throws -> (tensors: [(String, StoredTensor)], metadata: [String: String]) {
    var reader = ByteReader(bytes)
    let headerLength = try reader.uint64("header length")
    guard headerLength <= min(maxHeaderBytes, reader.remaining) else {
      throw FormatError("header claims \(headerLength) bytes; the file has \(reader.remaining) after the length")
    }
    let header = try JSONSerialization.jsonObject(with: Data(try reader.take(headerLength, "header")))
    guard let entries = header as? [String: Any] else { throw FormatError("header is not a JSON object") }
    let data = UnsafeRawBufferPointer(rebasing: bytes[reader.offset...])
    var metadata: [String: String] = [:]
    var tensors: [(name: String, begin: Int, tensor: StoredTensor)] = []
    for (name, value) in entries {
      if name == "__metadata__" {
        metadata = (value as? [String: String]) ?? [:]
        continue
      }
      let (begin, tensor) = try readTensor(name, value, data: data)
      tensors.append((name, begin, tensor))
    }
    let ordered = tensors.sorted { $0.begin < $1.begin }.map { ($0.name, $0.tensor) }  // file order
    return (ordered, metadata)
  }

  private static func readTensor(_ name: String, _ value: Any, data: UnsafeRawBufferPointer) throws -> (Int, StoredTensor) {
    guard let entry = value as? [String: Any], let dtypeName = entry["dtype"] as? String,
      let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
    else { throw FormatError("header entry \(name) lacks dtype, shape or data_offsets") }
    guard let dtype = dtypes[dtypeName] else { throw FormatError("tensor \(name) has unsupported dtype \(dtypeName)") }
    let (begin, end) = (offsets[0], offsets[1])
    guard begin >= 0, begin <= end, end <= data.count else {
      throw FormatError("tensor \(name) spans bytes \(begin)..<\(end) of a \(data.count)-byte data section")
    }
    var count = 1
    for extent in shape {
      let (product, overflow) = count.multipliedReportingOverflow(by: extent)
      guard extent >= 0, !overflow, product <= Unpickler.maxTensorElements else {
        throw FormatError("tensor \(name) has shape \(shape)")
      }
      count = product
    }
    guard count * dtype.size == end - begin else {
      throw FormatError("tensor \(name) of shape \(shape) and dtype \(dtypeName) needs \(count * dtype.size) bytes, has \(end - begin)")
    }
    let strides = shape.indices.map { i in shape[(i + 1)...].reduce(1, *) }
    let reference = TensorReference(
      storage: StorageReference(key: name, dtype: dtype, count: count), offset: 0, shape: shape, strides: strides)
    return (begin, StoredTensor(reference: reference, block: UnsafeRawBufferPointer(rebasing: data[begin..<end])))
  }

  /// Writes `tensors` as Float32 in the given order, atomically: to a temporary file in the
  /// same folder, then renamed over `url`.
  static func write(_ tensors: [(String, Tensor)], metadata: [String: String], to url: URL) throws {
    var header: [String: Any] = [:]
    var offset = 0
    for (name, tensor) in tensors {
      header[name] = ["dtype": "F32", "shape": tensor.shape, "data_offsets": [offset, offset + tensor.count * 4]]
      offset += tensor.count * 4
    }
    if !metadata.isEmpty { header["__metadata__"] = metadata }
    var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
    json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))  // align data to 8 bytes
    var length = UInt64(json.count).littleEndian
    try AtomicFile.write(to: url) { handle in
      try handle.write(contentsOf: Data(bytes: &length, count: 8))
      try handle.write(contentsOf: json)
      for (_, tensor) in tensors {
        try tensor.withUnsafeBufferPointer { try handle.write(contentsOf: Data(buffer: $0)) }  // little-endian hosts only
      }
    }
  }
}
