/// The values a PyTorch state-dict pickle can build, and nothing else.
indirect enum PickleValue {
  case none
  case bool(Bool)
  case int(Int)
  /// An integer too wide for `Int` (little-endian two's complement), e.g. the legacy
  /// format's magic number.
  case bigInt([UInt8])
  case float(Double)
  case string(String)
  case bytes([UInt8])
  case tuple([PickleValue])
  case list(PickleList)
  case dict(PickleDict)
  /// A module-level name (`collections.OrderedDict`, `torch.FloatStorage`) that passed the
  /// allow-list.
  case global(module: String, name: String)
  case storage(StorageReference)
  case tensor(TensorReference)
  /// The MARK opcode's stack marker.
  case mark

  /// A short name of the case, for error messages.
  var kind: String {
    switch self {
    case .none: return "None"
    case .bool: return "bool"
    case .int, .bigInt: return "int"
    case .float: return "float"
    case .string: return "str"
    case .bytes: return "bytes"
    case .tuple: return "tuple"
    case .list: return "list"
    case .dict: return "dict"
    case .global(let module, let name): return "\(module).\(name)"
    case .storage: return "storage"
    case .tensor: return "tensor"
    case .mark: return "mark"
    }
  }
}

/// A pickled list; a class so that APPEND after memoisation reaches every reference.
final class PickleList {
  var items: [PickleValue] = []
}

/// A pickled dict or OrderedDict, keys in insertion order.
final class PickleDict {
  var items: [(key: PickleValue, value: PickleValue)] = []
}

/// The element types of PyTorch storages.
public enum StorageDType: String, Sendable {
  case float32, float64, float16, bfloat16, int64, int32, int16, int8, uint8, bool

  /// Bytes per element.
  public var size: Int {
    switch self {
    case .float64, .int64: return 8
    case .float32, .int32: return 4
    case .float16, .bfloat16, .int16: return 2
    case .int8, .uint8, .bool: return 1
    }
  }

  /// The dtype of a legacy storage class name such as `FloatStorage`.
  init?(storageClass name: String) {
    let table: [String: StorageDType] = [
      "FloatStorage": .float32, "DoubleStorage": .float64, "HalfStorage": .float16,
      "BFloat16Storage": .bfloat16, "LongStorage": .int64, "IntStorage": .int32,
      "ShortStorage": .int16, "CharStorage": .int8, "ByteStorage": .uint8, "BoolStorage": .bool,
    ]
    guard let dtype = table[name] else { return nil }
    self = dtype
  }
}

/// A storage named by a pickle's persistent id: which raw block holds it, its element
/// type and count, and (legacy views) the element offset inside that block.
struct StorageReference {
  var key: String
  var dtype: StorageDType
  var count: Int
  var elementOffset: Int = 0
}

/// A tensor rebuilt by `torch._utils._rebuild_tensor_v2`: a strided view of a storage.
struct TensorReference {
  var storage: StorageReference
  var offset: Int
  var shape: [Int]
  var strides: [Int]
}

/// A tensor of a checkpoint as stored: its strided view and the bytes of its storage
/// (a slice of the mapped file), validated to hold every element the view reads.
struct StoredTensor {
  var reference: TensorReference
  var block: UnsafeRawBufferPointer

  /// The same storage seen through another shape and strides (a layout conversion).
  func viewed(shape: [Int], strides: [Int]) -> StoredTensor {
    var copy = self
    copy.reference.shape = shape
    copy.reference.strides = strides
    return copy
  }
}
