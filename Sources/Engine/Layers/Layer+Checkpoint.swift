import Foundation

extension Layer {
  /// The descendant at a dotted path of child names (`layer1.0`), or `self` for `""`.
  public func descendant(_ path: String) -> (any Layer)? {
    guard !path.isEmpty else { return self }
    var current: any Layer = self
    for name in path.split(separator: ".") {
      guard let next = current.children.first(where: { $0.name == name })?.layer else { return nil }
      current = next
    }
    return current
  }

  /// Loads a checkpoint's tensors into the parameters of the same names.
  ///
  /// PyTorch checkpoints (and safetensors without Podium's layout tag) are converted from
  /// PyTorch's layouts (``Parameter/pytorchLayout``); Podium's own files load as they are.
  /// Each tensor is copied from the file straight into its parameter's storage.
  /// `num_batches_tracked` entries are ignored.
  ///
  /// - Parameter skip: names to leave alone on both sides, e.g. a replaced classifier.
  /// - Throws: ``ParameterLoadError`` for a name one side lacks, ``ShapeError`` for a
  ///   shape that does not fit (both name the parameter).
  public func load(_ checkpoint: Checkpoint, skip: (String) -> Bool = { _ in false }) throws {
    let native = checkpoint.metadata[CheckpointLayoutTag.key] == CheckpointLayoutTag.podium
    let parameters = Dictionary(uniqueKeysWithValues: namedParameters().map { ($0.name, $0.parameter) })
    var loaded = Set<String>()
    for name in checkpoint.names where !name.hasSuffix("num_batches_tracked") && !skip(name) {
      guard let parameter = parameters[name] else { throw ParameterLoadError.unexpected(name) }
      let layout = native ? PyTorchLayout.same : parameter.pytorchLayout
      let expected = native ? parameter.value.shape : layout.pytorchShape(of: parameter.value.shape)
      let stored = checkpoint.shape(of: name) ?? []
      guard stored == expected || (stored.reduce(1, *) == 1 && parameter.value.count == 1) else {
        throw ShapeError(context: name, expected: expected, actual: stored)
      }
      // Straight into the parameter's own storage: no second copy of the model in memory.
      try checkpoint.read(name, as: layout, into: parameter.value.mutablePointer())
      loaded.insert(name)
    }
    if let missing = parameters.keys.sorted().first(where: { !loaded.contains($0) && !skip($0) }) {
      throw ParameterLoadError.missing(missing)
    }
  }

  /// Writes every parameter and buffer to a `.safetensors` file in Podium's layout,
  /// tagged so ``load(_:skip:)`` reads it back without conversion. Atomic.
  public func save(to url: URL, metadata: [String: String] = [:]) throws {
    try Checkpoint.writeInPodiumLayout(namedValues, metadata: metadata, to: url)
  }

  /// Every parameter's and buffer's current value by its dotted name, as ``save(to:metadata:)`` writes them.
  public var namedValues: [(name: String, tensor: Tensor)] {
    namedParameters().map { (name: $0.name, tensor: $0.parameter.value) }
  }
}

extension Checkpoint {
  /// Writes tensors in Podium's layouts (a network's values, or an average of them) as a
  /// `.safetensors` file tagged so ``Layer/load(_:skip:)`` reads it back without conversion. Atomic.
  public static func writeInPodiumLayout(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:], to url: URL) throws {
    var tags = metadata
    tags[CheckpointLayoutTag.key] = CheckpointLayoutTag.podium
    try writeSafetensors(tensors, metadata: tags, to: url)
  }
}

/// The safetensors metadata entry that marks a file written in Podium's layouts.
public enum CheckpointLayoutTag {
  public static let key = "podium.layout"
  public static let podium = "nhwc"
}
