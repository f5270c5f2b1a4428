/// A restricted unpickler for PyTorch state dicts.
///
/// It implements only the opcodes that `torch.save` emits for a state dict (protocols
/// 2–4) and builds only ``PickleValue``s: dicts, lists, tuples, numbers, strings, and
/// tensors through `torch._utils._rebuild_tensor_v2` and its relatives. Any other global
/// (`os.system`, `builtins.eval`, ...) is refused with an error naming it, so no code from
/// the file ever runs. Every length is checked against the bytes that remain, and the
/// stack and memo are bounded. Reference: Python's `Lib/pickletools.py` (opcode table).
struct Unpickler {
  /// The globals a state dict may name: the tensor rebuild functions, storage types, and
  /// OrderedDict.
  static let allowedGlobals: Set<String> = [
    "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor",
    "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
    "torch.FloatStorage", "torch.DoubleStorage", "torch.HalfStorage", "torch.BFloat16Storage",
    "torch.LongStorage", "torch.IntStorage", "torch.ShortStorage", "torch.CharStorage",
    "torch.ByteStorage", "torch.BoolStorage",
  ]
  static let maxStackDepth = 1 << 20
  static let maxMemoSize = 1 << 20
  /// The deepest nesting of tuples, lists and dicts accepted: a state dict nests 3 deep
  /// (checkpoint, state dict, size tuple), and deeper values would be freed recursively.
  static let maxNestingDepth = 64

  private var reader: ByteReader
  private var stack: [PickleValue] = []
  private var memo: [Int: PickleValue] = [:]
  /// Resolves a persistent id (BINPERSID) to a storage.
  private let persistentLoad: (PickleValue) throws -> PickleValue

  /// Prepares to read one pickle starting at `reader`'s offset.
  init(_ reader: ByteReader, persistentLoad: @escaping (PickleValue) throws -> PickleValue = { _ in
    throw FormatError("pickle refers to an external object outside a checkpoint")
  }) {
    self.reader = reader
    self.persistentLoad = persistentLoad
  }

  /// The reader positioned after the last pickle read.
  var position: ByteReader { reader }

  /// Reads one pickle up to its STOP opcode and returns its value.
  mutating func load() throws -> PickleValue {
    stack.removeAll(keepingCapacity: true)
    memo.removeAll()
    while true {
      let at = reader.offset
      let opcode = try reader.uint8("pickle opcode")
      if opcode == 0x2E {  // STOP
        guard stack.count == 1 else { throw FormatError("pickle ends with \(stack.count) values on its stack") }
        return stack.removeLast()
      }
      try execute(opcode, at: at)
      guard stack.count <= Self.maxStackDepth else { throw FormatError("pickle stack exceeds \(Self.maxStackDepth) values") }
    }
  }

  // MARK: - Opcodes

  private mutating func execute(_ opcode: UInt8, at offset: Int) throws {
    switch opcode {
    case 0x80: _ = try reader.uint8("protocol")  // PROTO
    case 0x95: _ = try reader.uint64("frame size")  // FRAME: framing is only a hint
    case 0x28: stack.append(.mark)  // MARK
    case 0x7D: stack.append(.dict(PickleDict()))  // EMPTY_DICT
    case 0x5D: stack.append(.list(PickleList()))  // EMPTY_LIST
    case 0x29: stack.append(.tuple(PickleTuple([])))  // EMPTY_TUPLE
    case 0x74: stack.append(try tuple(try popToMark()))  // TUPLE
    case 0x85, 0x86, 0x87: try pushTuple(Int(opcode) - 0x84)  // TUPLE1..3
    case 0x4E: stack.append(.none)  // NONE
    case 0x88: stack.append(.bool(true))  // NEWTRUE
    case 0x89: stack.append(.bool(false))  // NEWFALSE
    case 0x4A: stack.append(.int(try reader.int32("BININT")))
    case 0x4B: stack.append(.int(Int(try reader.uint8("BININT1"))))
    case 0x4D: stack.append(.int(try reader.uint16("BININT2")))
    case 0x8A: stack.append(try long(Int(try reader.uint8("LONG1 length"))))
    case 0x47: stack.append(.float(Double(bitPattern: try bigEndian64())))  // BINFLOAT
    case 0x58: stack.append(.string(try reader.string(try reader.uint32("BINUNICODE length"), "string")))
    case 0x8C: stack.append(.string(try reader.string(Int(try reader.uint8("SHORT_BINUNICODE length")), "string")))
    case 0x8D: stack.append(.string(try reader.string(try reader.uint64("BINUNICODE8 length"), "string")))
    case 0x54: stack.append(.string(try reader.string(try reader.uint32("BINSTRING length"), "string")))
    case 0x55: stack.append(.string(try reader.string(Int(try reader.uint8("SHORT_BINSTRING length")), "string")))
    case 0x42: stack.append(.bytes(Array(try reader.take(try reader.uint32("BINBYTES length"), "bytes"))))
    case 0x43: stack.append(.bytes(Array(try reader.take(Int(try reader.uint8("SHORT_BINBYTES length")), "bytes"))))
    case 0x71: try put(Int(try reader.uint8("BINPUT index")))
    case 0x72: try put(try reader.uint32("LONG_BINPUT index"))
    case 0x94: try put(memo.count)  // MEMOIZE
    case 0x68: try get(Int(try reader.uint8("BINGET index")))
    case 0x6A: try get(try reader.uint32("LONG_BINGET index"))
    case 0x63: try pushGlobal(module: try line(), name: try line())  // GLOBAL
    case 0x93:  // STACK_GLOBAL
      let name = try pop(), module = try pop()
      guard case .string(let n) = name, case .string(let m) = module else { throw FormatError("STACK_GLOBAL needs two strings") }
      try pushGlobal(module: m, name: n)
    case 0x52: try reduce()  // REDUCE
    case 0x62: _ = try pop()  // BUILD: a state dict's _metadata attribute; ignored
    case 0x51: stack.append(try persistentLoad(try pop()))  // BINPERSID
    case 0x73: try setItems(try popPairs(count: 1))  // SETITEM
    case 0x75: try setItems(try popPairsToMark())  // SETITEMS
    case 0x61: try append([try pop()])  // APPEND
    case 0x65: try append(try popToMark())  // APPENDS
    default:
      throw FormatError(String(format: "pickle opcode 0x%02X at offset %d is not one a state dict uses", opcode, offset))
    }
  }

  // MARK: - Stack helpers

  private mutating func pop() throws -> PickleValue {
    guard let value = stack.popLast() else { throw FormatError("pickle pops an empty stack") }
    if case .mark = value { throw FormatError("pickle uses a MARK as a value") }
    return value
  }

  private mutating func popToMark() throws -> [PickleValue] {
    guard let markIndex = stack.lastIndex(where: { if case .mark = $0 { return true } else { return false } }) else {
      throw FormatError("pickle closes a MARK it never opened")
    }
    let items = Array(stack[(markIndex + 1)...])
    stack.removeSubrange(markIndex...)
    return items
  }

  private mutating func pushTuple(_ count: Int) throws {
    var items: [PickleValue] = []
    for _ in 0..<count { items.insert(try pop(), at: 0) }
    stack.append(try tuple(items))
  }

  /// A tuple of `items`, which are sealed inside it.
  private func tuple(_ items: [PickleValue]) throws -> PickleValue {
    let tuple = PickleTuple(items)
    guard tuple.depth <= Self.maxNestingDepth else { throw FormatError("pickle nests deeper than \(Self.maxNestingDepth) containers") }
    items.forEach(PickleContainer.seal)
    return .tuple(tuple)
  }

  private mutating func popPairs(count: Int) throws -> [PickleValue] {
    var items: [PickleValue] = []
    for _ in 0..<(2 * count) { items.insert(try pop(), at: 0) }
    return items
  }

  private mutating func popPairsToMark() throws -> [PickleValue] {
    let items = try popToMark()
    guard items.count % 2 == 0 else { throw FormatError("SETITEMS with an odd number of values") }
    return items
  }

  private mutating func setItems(_ flat: [PickleValue]) throws {
    guard case .dict(let dict) = stack.last else { throw FormatError("SETITEM on a \(stack.last?.kind ?? "empty stack")") }
    try dict.admit(flat, maxDepth: Self.maxNestingDepth)
    for i in stride(from: 0, to: flat.count, by: 2) { dict.items.append((flat[i], flat[i + 1])) }
  }

  private mutating func append(_ values: [PickleValue]) throws {
    guard case .list(let list) = stack.last else { throw FormatError("APPEND on a \(stack.last?.kind ?? "empty stack")") }
    try list.admit(values, maxDepth: Self.maxNestingDepth)
    list.items += values
  }

  private mutating func put(_ index: Int) throws {
    guard let top = stack.last else { throw FormatError("memoises an empty stack") }
    guard memo.count < Self.maxMemoSize else { throw FormatError("pickle memo exceeds \(Self.maxMemoSize) entries") }
    memo[index] = top
  }

  private mutating func get(_ index: Int) throws {
    guard let value = memo[index] else { throw FormatError("pickle reads memo entry \(index), never written") }
    stack.append(value)
  }

  // MARK: - Values

  private mutating func long(_ count: Int) throws -> PickleValue {
    let raw = Array(try reader.take(count, "LONG1 value"))
    guard count <= 8 else { return .bigInt(raw) }
    var value: UInt64 = 0
    for byte in raw.reversed() { value = value << 8 | UInt64(byte) }
    if count > 0 && count < 8 && raw[count - 1] & 0x80 != 0 { value |= ~0 << (8 * UInt64(count)) }  // sign-extend
    return .int(Int(Int64(bitPattern: value)))
  }

  private mutating func bigEndian64() throws -> UInt64 {
    try reader.take(8, "BINFLOAT").reduce(0) { $0 << 8 | UInt64($1) }
  }

  /// A newline-terminated ASCII line (GLOBAL's operands), at most 256 bytes.
  private mutating func line() throws -> String {
    var bytes: [UInt8] = []
    while true {
      let byte = try reader.uint8("GLOBAL name")
      if byte == 0x0A { break }
      bytes.append(byte)
      guard bytes.count <= 256 else { throw FormatError("GLOBAL name longer than 256 bytes") }
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  private mutating func pushGlobal(module: String, name: String) throws {
    let qualified = "\(module).\(name)"
    guard Self.allowedGlobals.contains(qualified) else {
      throw FormatError("pickle refers to \(qualified), which a state dict never needs; refused")
    }
    stack.append(.global(module: module, name: name))
  }

  private mutating func reduce() throws {
    let arguments = try pop(), callable = try pop()
    guard case .global(let module, let name) = callable, case .tuple(let tuple) = arguments else {
      throw FormatError("REDUCE applies a \(callable.kind) to a \(arguments.kind)")
    }
    let args = tuple.items
    switch "\(module).\(name)" {
    case "collections.OrderedDict": stack.append(.dict(PickleDict()))
    case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor":
      stack.append(.tensor(try Self.rebuildTensor(args)))
    case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
      guard let tensor = args.first, case .tensor = tensor else { throw FormatError("_rebuild_parameter without a tensor") }
      stack.append(tensor)
    default:
      throw FormatError("pickle calls \(module).\(name), which builds no tensor")
    }
  }

  /// `(storage, storage_offset, size, stride, ...)` → a tensor view, validated against the
  /// storage's element count.
  static func rebuildTensor(_ args: [PickleValue]) throws -> TensorReference {
    guard args.count >= 4, case .storage(let storage) = args[0], case .int(let offset) = args[1],
      case .tuple(let sizeValues) = args[2], case .tuple(let strideValues) = args[3]
    else { throw FormatError("_rebuild_tensor_v2 with unexpected arguments") }
    let shape = try sizeValues.items.map(integer), strides = try strideValues.items.map(integer)
    guard shape.count == strides.count, shape.count <= 8 else { throw FormatError("tensor with sizes \(shape) and strides \(strides)") }
    guard offset >= 0, shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 }) else {
      throw FormatError("tensor with negative size, stride or offset")
    }
    var lastIndex = offset
    for (extent, stride) in zip(shape, strides) where extent > 0 {
      let (step, overflow1) = (extent - 1).multipliedReportingOverflow(by: stride)
      let (sum, overflow2) = lastIndex.addingReportingOverflow(step)
      guard !overflow1, !overflow2 else { throw FormatError("tensor strides overflow") }
      lastIndex = sum
    }
    let empty = shape.contains(0)
    guard empty || lastIndex < storage.count else {
      throw FormatError("tensor of shape \(shape) reads element \(lastIndex) of a \(storage.count)-element storage")
    }
    var count = 1
    for extent in shape {
      let (product, overflow) = count.multipliedReportingOverflow(by: extent)
      guard !overflow, product <= maxTensorElements else { throw FormatError("tensor of shape \(shape) is too large") }
      count = product
    }
    // A stride-0 (expanded) tensor may have more elements than its storage, but not absurdly more.
    guard count / 64 <= max(storage.count, 1) else {
      throw FormatError("tensor of shape \(shape) claims \(count) elements from a \(storage.count)-element storage")
    }
    return TensorReference(storage: storage, offset: offset, shape: shape, strides: strides)
  }

  /// The largest tensor a checkpoint may hold: 2³¹ elements (8 GiB of Float32).
  static let maxTensorElements = 1 << 31

  private static func integer(_ value: PickleValue) throws -> Int {
    guard case .int(let number) = value else { throw FormatError("expected an integer, found \(value.kind)") }
    return number
  }
}
