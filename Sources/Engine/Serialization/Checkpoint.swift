import Foundation

/// A checkpoint file, read without Python: PyTorch zip `.pth` (torch ≥ 1.6), PyTorch legacy
/// `.pth` (pre-1.6) and `.safetensors`, recognised by their content, not their extension.
///
/// Opening a checkpoint maps the file, parses its header and validates every tensor's
/// extent against the file; tensor data is copied out only when asked for, one tensor at a
/// time, and the copied pages are released, so loading a model costs about the model's own
/// size in memory. Tensors come back as contiguous Float32 in the file's own layout
/// (PyTorch's convolution weights stay `[OC, IC, KH, KW]`); ``read(_:as:into:)`` reads a
/// reordered view straight into a parameter's storage. Reading never executes code from
/// the file and never trusts a length it has not checked against the file's size.
///
/// ```swift
/// let checkpoint = try Checkpoint(contentsOf: URL(fileURLWithPath: "resnet18-f37072fd.pth"))
/// let stem = try checkpoint.tensor(named: "conv1.weight")      // [64, 3, 7, 7]
/// ```
public struct Checkpoint {
  /// The file formats Podium reads.
  public enum Format: String, Sendable {
    case pytorchZip = "PyTorch zip"
    case pytorchLegacy = "PyTorch legacy"
    case safetensors
  }

  /// The file, as given.
  public let path: String
  /// The format the file turned out to be.
  public let format: Format
  /// Safetensors `__metadata__` (empty for PyTorch files).
  public let metadata: [String: String]
  private let file: MappedFile
  private let entries: [(name: String, stored: StoredTensor)]

  /// Opens and validates a checkpoint file.
  ///
  /// - Throws: ``CheckpointError`` naming the file and what is wrong with it.
  public init(contentsOf url: URL) throws {
    path = url.path
    file = try MappedFile(path: url.path)
    do {
      (format, entries, metadata) = try Self.parse(file.bytes)
    } catch let error as FormatError {
      throw CheckpointError(path: url.path, reason: error.reason)
    }
  }

  /// Tensor names in file order.
  public var names: [String] { entries.map(\.name) }

  /// The shape of the tensor called `name` as stored, if present.
  public func shape(of name: String) -> [Int]? {
    entries.first { $0.name == name }?.stored.reference.shape
  }

  /// The tensor called `name`, as stored.
  ///
  /// - Throws: ``CheckpointError`` when the file has no such tensor.
  public func tensor(named name: String) throws -> Tensor {
    let stored = try entry(name)
    var result = Tensor(uninitializedShape: stored.reference.shape)
    copy(stored, into: result.mutablePointer())
    return result
  }

  /// Every tensor, in file order.
  public func readAll() throws -> [(name: String, tensor: Tensor)] {
    try names.map { ($0, try tensor(named: $0)) }
  }

  /// Copies the tensor `name` into `destination` in Podium's layout for a parameter stored
  /// in PyTorch's `layout`, without an intermediate copy.
  ///
  /// - Precondition: `destination` holds as many values as the tensor.
  public func read(_ name: String, as layout: PyTorchLayout, into destination: UnsafeMutablePointer<Float>) throws {
    let stored = try entry(name)
    let (shape, strides) = layout.podiumView(shape: stored.reference.shape, strides: stored.reference.strides)
    copy(stored.viewed(shape: shape, strides: strides), into: destination)
  }

  private func entry(_ name: String) throws -> StoredTensor {
    guard let stored = entries.first(where: { $0.name == name })?.stored else {
      throw CheckpointError(path: path, reason: "no tensor named \(name)")
    }
    return stored
  }

  private func copy(_ stored: StoredTensor, into destination: UnsafeMutablePointer<Float>) {
    StorageDecoding.decode(stored.reference, block: stored.block, into: destination)
    if let block = stored.block.baseAddress, let base = file.bytes.baseAddress {
      let start = block - base
      file.release(start..<(start + stored.block.count))
    }
  }

  private static func parse(_ bytes: UnsafeRawBufferPointer) throws -> (Format, [(name: String, stored: StoredTensor)], [String: String]) {
    if ZipArchive.looksLikeZip(bytes) {
      return (.pytorchZip, try PyTorchCheckpoint.readZip(bytes).map { ($0.0, $0.1) }, [:])
    }
    if PyTorchCheckpoint.looksLikeLegacy(bytes) {
      return (.pytorchLegacy, try PyTorchCheckpoint.readLegacy(bytes).map { ($0.0, $0.1) }, [:])
    }
    if Safetensors.looksLikeSafetensors(bytes) {
      let (tensors, metadata) = try Safetensors.read(bytes)
      return (.safetensors, tensors.map { ($0.0, $0.1) }, metadata)
    }
    throw FormatError("not a PyTorch (.pth) or safetensors checkpoint (\(bytes.count) bytes)")
  }

  /// Writes `tensors` as a `.safetensors` file, atomically (temporary file + rename).
  public static func writeSafetensors(
    _ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:], to url: URL
  ) throws {
    try Safetensors.write(tensors.map { ($0.name, $0.tensor) }, metadata: metadata, to: url)
  }
}
