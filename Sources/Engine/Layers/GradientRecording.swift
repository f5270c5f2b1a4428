/// Whether forward passes keep what a backward pass needs — PyTorch's `torch.no_grad()`.
///
/// Layers cache their input (or output) in forward for the backward that follows. Inside
/// ``withoutGradients(_:)`` they keep nothing, so each activation is released as soon as
/// the next layer has read it and its storage returns to the pool: inference, validation
/// and feature extraction then hold two activations at a time instead of every one.
/// Calling `backward` after such a forward is a programming error.
public enum GradientRecording {
  nonisolated(unsafe) private static var disabledDepth = 0
  nonisolated(unsafe) private static var frozenPrefixDepth = 0

  /// True unless inside ``withoutGradients(_:)`` (set and read on the driving thread; the
  /// kernels' worker threads never ask).
  public static var isEnabled: Bool { disabledDepth == 0 }

  /// True inside ``withoutInputGradients(_:)``: a ``Sequential`` then runs the children
  /// before its first trainable one without recording, since a backward pass that needs no
  /// input gradient stops before them.
  public static var skipsFrozenPrefix: Bool { frozenPrefixDepth > 0 && disabledDepth == 0 }

  /// Runs a training step whose backward will not ask for the input's gradient
  /// (`needsInputGradient: false`): frozen leading layers keep nothing, as PyTorch keeps
  /// nothing for layers whose inputs and weights need no gradient.
  public static func withoutInputGradients<T>(_ body: () throws -> T) rethrows -> T {
    frozenPrefixDepth += 1
    defer { frozenPrefixDepth -= 1 }
    return try body()
  }

  /// Runs `body` with recording off: forward passes cache nothing for backward.
  public static func withoutGradients<T>(_ body: () throws -> T) rethrows -> T {
    disabledDepth += 1
    defer { disabledDepth -= 1 }
    return try body()
  }
}
