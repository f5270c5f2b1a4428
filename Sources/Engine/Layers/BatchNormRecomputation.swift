extension Layer {
  /// The batch norms of the tree that are in training mode: the ones whose running
  /// statistics a forward pass updates.
  public var trainingBatchNorms: [BatchNorm] {
    var found: [BatchNorm] = []
    if isTraining, let norm = self as? BatchNorm { found.append(norm) }
    for (_, child) in children { found += child.trainingBatchNorms }
    return found
  }

  /// Recomputes the running statistics of every batch norm in training mode from `batches`,
  /// as `torch.optim.swa_utils.update_bn` does: the estimates restart (mean 0, variance 1)
  /// and end as the plain mean over the batches of each batch's mean and unbiased variance
  /// (momentum `1/k` for the `k`-th batch). Needed after averaging weights, whose running
  /// statistics belong to none of the averaged models. Batch norms in evaluation mode (a
  /// frozen trunk's) keep theirs. Returns the number of batches seen.
  ///
  /// - Throws: the errors of the forward passes; the momentum of each layer is restored.
  @discardableResult
  public func recomputeBatchNormStatistics(over batches: some Sequence<Tensor>) throws -> Int {
    let norms = trainingBatchNorms
    guard !norms.isEmpty else { return 0 }
    let momenta = norms.map(\.momentum)
    defer { for (norm, momentum) in zip(norms, momenta) { norm.momentum = momentum } }
    for norm in norms {
      norm.runningMean.value = Tensor(shape: [norm.channels])
      norm.runningVariance.value = Tensor(shape: [norm.channels], repeating: 1)
    }
    var count = 0
    for batch in batches {
      count += 1
      for norm in norms { norm.momentum = 1 / Float(count) }
      _ = try GradientRecording.withoutGradients { try forward(batch) }
    }
    return count
  }
}
