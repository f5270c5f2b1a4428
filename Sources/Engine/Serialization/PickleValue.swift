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
  case tuple(PickleTuple)
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

extension PickleValue {
  /// How many tuples, lists and dicts deep the value nests: 0 for a scalar, 1 for an empty
  /// container.
  var depth: Int {
    switch self {
    case .tuple(let tuple): return tuple.depth
    case .list(let list): return list.depth
    case .dict(let dict): return dict.depth
    default: return 0
    }
  }

  /// The list or dict itself (nil for any other value), to compare by identity.
  var container: PickleContainer? {
    switch self {
    case .list(let list): return list
    case .dict(let dict): return dict
    default: return nil
    }
  }
}

/// A pickled tuple, with its nesting depth worked out once when it is built.
struct PickleTuple {
  let items: [PickleValue]
  let depth: Int

  init(_ items: [PickleValue]) {
    self.items = items
    depth = 1 + (items.map(\.depth).max() ?? 0)
  }
}

/// A pickled list or dict: a class, so that SETITEM or APPEND after memoisation reaches
/// every reference to it.
///
/// Once placed inside another value it is sealed and may not change any more. A state dict
/// never needs otherwise (Python's pickler fills a container before the one that holds it
/// goes on), and the rule makes cycles impossible: a container can only come to hold
/// itself by being changed after it was placed inside one of its own values.
class PickleContainer {
  /// One more than the deepest value inside; exact, because sealed values never change.
  fileprivate(set) var depth = 1
  /// True once the container is inside another value.
  fileprivate(set) var isSealed = false

  /// Marks `value`, if it is a list or dict, as placed inside another value.
  static func seal(_ value: PickleValue) {
    value.container?.isSealed = true
  }

  /// Checks that `values` may go into this container, seals them and updates the depth.
  ///
  /// - Throws: ``FormatError`` when the container is sealed, when a value is the container
  ///   itself, or when the result would nest deeper than `maxDepth`.
  func admit(_ values: [PickleValue], maxDepth: Int) throws {
    guard !isSealed else { throw FormatError("pickle changes a \(kind) after placing it inside another value; refused") }
    for value in values {
      guard value.container !== self else { throw FormatError("pickle puts a \(kind) into itself; refused") }
      depth = max(depth, value.depth + 1)
      guard depth <= maxDepth else { throw FormatError("pickle nests deeper than \(maxDepth) containers") }
      Self.seal(value)
    }
  }

  var kind: String { "container" }
}

/// A pickled list.
final class PickleList: PickleContainer {
  var items: [PickleValue] = []
  override var kind: String { "list" }
}

/// A pickled dict or OrderedDict, keys in insertion order.
final class PickleDict: PickleContainer {
  var items: [(key: PickleValue, value: PickleValue)] = []
  override var kind: String { "dict" }
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
