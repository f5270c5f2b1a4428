import Foundation

/// Hand-built PyTorch checkpoints that attack the reader: each is a complete legacy-format
/// file (magic, protocol, system info, state-dict pickle, storage keys and storage bytes)
/// whose state-dict pickle or storage header is hostile. Opcodes as in Python's
/// `Lib/pickletools.py`.
public enum HostilePickles {
  /// A tensor whose storage claims `Int.max − 7` Float32 elements: size arithmetic on that
  /// count overflows.
  public static var hugeElementCount: Data {
    let count = Int.max - 7
    var pickle = protocol2 + [0x7D]  // EMPTY_DICT
    pickle += shortString("w") + [0x63] + Array("torch._utils\n_rebuild_tensor_v2\n".utf8)  // GLOBAL
    pickle += [0x28, 0x28] + shortString("storage") + [0x63] + Array("torch\nFloatStorage\n".utf8)  // MARK, MARK, pid
    pickle += shortString("0") + shortString("cpu") + long8(count) + [0x74, 0x51]  // TUPLE, BINPERSID
    pickle += [0x4B, 0x00] + [0x4B, 0x01, 0x85] + [0x4B, 0x01, 0x85] + [0x74, 0x52]  // (storage, 0, (1,), (1,)) REDUCE
    pickle += [0x73, 0x2E]  // SETITEM, STOP
    var storage = Data(legacyFile(statePickle: pickle, storageKeys: ["0"]))
    var declared = UInt64(count).littleEndian
    storage += Data(bytes: &declared, count: 8) + Data(count: 16)
    return storage
  }

  /// A dict that holds itself under `"model"`: memoised, fetched back and set into itself.
  public static var selfContainingDict: Data {
    let pickle = protocol2 + [0x7D, 0x71, 0x00] + shortString("model") + [0x68, 0x00, 0x73, 0x2E]
    return Data(legacyFile(statePickle: pickle, storageKeys: []))
  }

  /// `depth` one-element tuples nested in each other: one value on the stack, any depth.
  public static func nestedTuples(depth: Int) -> Data {
    let pickle = protocol2 + [0x29] + [UInt8](repeating: 0x85, count: depth) + [0x2E]  // EMPTY_TUPLE, TUPLE1…
    return Data(legacyFile(statePickle: pickle, storageKeys: []))
  }

  /// The legacy layout around a state-dict pickle: magic, protocol 1001, system info
  /// `{"little_endian": True}`, the pickle, the list of storage keys.
  static func legacyFile(statePickle: [UInt8], storageKeys: [String]) -> [UInt8] {
    let magic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]
    var bytes = protocol2 + [0x8A, 0x0A] + magic + [0x2E]
    bytes += protocol2 + [0x4D, 0xE9, 0x03, 0x2E]  // BININT2 1001
    bytes += protocol2 + [0x7D] + shortString("little_endian") + [0x88, 0x73, 0x2E]
    bytes += statePickle
    bytes += protocol2 + [0x5D, 0x28] + storageKeys.flatMap(shortString) + [0x65, 0x2E]  // EMPTY_LIST, MARK, APPENDS
    return bytes
  }

  private static let protocol2: [UInt8] = [0x80, 0x02]

  private static func shortString(_ text: String) -> [UInt8] {
    [0x8C, UInt8(text.utf8.count)] + Array(text.utf8)  // SHORT_BINUNICODE
  }

  private static func long8(_ value: Int) -> [UInt8] {
    [0x8A, 0x08] + withUnsafeBytes(of: Int64(value).littleEndian, Array.init)  // LONG1, 8 bytes
  }
}
