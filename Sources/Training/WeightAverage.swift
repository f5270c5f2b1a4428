import Engine
import Foundation

/// A running average of a network's weights and buffers: timm's `ModelEmaV2` (an
/// exponential moving average updated after every optimizer step) or the uniform average of
/// stochastic weight averaging (`torch.optim.swa_utils.AveragedModel`, updated once per epoch
/// over the last epochs).
///
/// Every tensor of the network is averaged, frozen ones included; both updates are written as
/// a step towards the current value (`a += f · (w − a)`), so a tensor that never changes stays
/// bit-for-bit what it was. The average is checkpointed with each epoch and restored on
/// resume, so an interrupted run averages exactly as an uninterrupted one.
final class WeightAverage {
  /// How the average follows the weights.
  enum Kind: Equatable {
    /// `a = decay · a + (1 − decay) · w` after every optimizer step (`ema: DECAY`).
    case exponential(decay: Float)
    /// The mean of the weights at the end of each of the last `epochs` epochs (`swa_epochs: N`),
    /// batch-norm statistics recomputed on the training images before it is used.
    case stochastic(epochs: Int)

    /// True for the exponential average, folded in after every optimizer step.
    var updatesEveryStep: Bool {
      if case .exponential = self { return true }
      return false
    }
  }

  let kind: Kind
  private(set) var values: [(name: String, tensor: Tensor)]
  /// Updates folded in so far.
  private(set) var count = 0

  /// An average that starts as the network's current values.
  init(_ kind: Kind, of network: any Layer) {
    (self.kind, values) = (kind, network.namedValues)
  }

  /// Folds the network's current values into the average.
  func update(from network: any Layer) {
    let parameters = network.namedParameters().map(\.parameter)
    precondition(parameters.count == values.count, "the network changed shape under its weight average")
    count += 1
    let step: Float
    switch kind {
    case .exponential(let decay): step = 1 - decay
    case .stochastic: step = 1 / Float(count)
    }
    for index in values.indices {
      parameters[index].value.withUnsafeBufferPointer { current in
        values[index].tensor.withUnsafeMutableBufferPointer { average in
          for i in 0..<average.count { average[i] += step * (current[i] - average[i]) }
        }
      }
    }
  }

  /// Runs `body` with the averaged values in the network's parameters, then puts the
  /// network's own values back (what `body` changes in the averaged ones, such as
  /// recomputed batch-norm statistics, is returned as the values it ended with).
  func swappedIn<T>(_ network: any Layer, _ body: () throws -> T) rethrows -> (result: T, values: [(name: String, tensor: Tensor)]) {
    let parameters = network.namedParameters().map(\.parameter)
    let own = parameters.map(\.value)
    for (parameter, average) in zip(parameters, values) { parameter.value = average.tensor }
    defer { for (parameter, value) in zip(parameters, own) { parameter.value = value } }
    let result = try body()
    return (result, network.namedValues)
  }

  // MARK: - Checkpoint

  /// Writes the average and its count as a safetensors file in Podium's layout (it loads
  /// into the network as any of its checkpoints does).
  func save(to url: URL) throws {
    try Checkpoint.writeInPodiumLayout(values, metadata: ["count": String(count)], to: url)
  }

  /// Restores what ``save(to:)`` wrote.
  ///
  /// - Throws: ``TrainingError`` naming the file when it does not hold this network's tensors.
  func restore(from url: URL) throws {
    let checkpoint = try Checkpoint(contentsOf: url)
    let saved = Dictionary(uniqueKeysWithValues: try checkpoint.readAll().map { ($0.name, $0.tensor) })
    values = try values.map { name, current in
      guard let tensor = saved[name], tensor.shape == current.shape else {
        throw TrainingError("\(url.path): the weight average has no tensor \(name) of shape \(current.shape)")
      }
      return (name, tensor)
    }
    guard let stored = checkpoint.metadata["count"].flatMap(Int.init) else { throw TrainingError("\(url.path): the weight average has no count") }
    count = stored
  }
}
