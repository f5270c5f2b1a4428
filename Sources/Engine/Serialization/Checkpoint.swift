import Foundation

/// The named tensors of a checkpoint file, read without Python: PyTorch zip `.pth`
/// (torch ≥ 1.6), PyTorch legacy `.pth` (pre-1.6) and `.safetensors`, recognised by their
/// content, not their extension.
///
/// Tensors come back as contiguous Float32 in the file's own layout (PyTorch's NCHW
/// convolution weights stay `[OC, IC, KH, KW]`); backbones convert them to Podium's
/// layouts when they load them. Reading never executes code from the file and never
/// trusts a length it has not checked against the file's size.
///
/// ```swift
/// let checkpoint = try Checkpoint(contentsOf: URL(fileURLWithPath: "resnet18-f37072fd.pth"))
/// let stem = checkpoint["conv1.weight"]      // [64, 3, 7, 7]
/// ```
public struct Checkpoint {
  /// The file formats Podium reads.
  public enum Format: String, Sendable {
    case pytorchZip = "PyTorch zip"
    case pytorchLegacy = "PyTorch legacy"
    case safetensors
  }

  /// The format the file turned out to be.
  public var format: Format
  /// The tensors in file order.
  public var tensors: [(name: String, tensor: Tensor)]
  /// Safetensors `__metadata__` (empty for PyTorch files).
  public var metadata: [String: String]

  /// Reads a checkpoint file.
  ///
  /// - Throws: ``CheckpointError`` naming the file and what is wrong with it.
  public init(contentsOf url: URL) throws {
    let data: Data
    do {
      data = try Data(contentsOf: url, options: .alwaysMapped)
    } catch {
      throw CheckpointError(path: url.path, reason: FileManager.default.fileExists(atPath: url.path) ? "unreadable" : "no such file")
    }
    do {
      (format, tensors, metadata) = try data.withUnsafeBytes { try Self.parse($0) }
    } catch let error as FormatError {
      throw CheckpointError(path: url.path, reason: error.reason)
    }
  }

  /// The tensor called `name`, if present.
  public subscript(name: String) -> Tensor? {
    tensors.first { $0.name == name }?.tensor
  }

  private static func parse(_ bytes: UnsafeRawBufferPointer) throws -> (Format, [(name: String, tensor: Tensor)], [String: String]) {
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
