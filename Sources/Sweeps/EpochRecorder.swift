import Training

/// Records a claimed run's epochs in the sink as the trainer reports them (finished ones,
/// and those read back from a checkpoint on resuming), and keeps the first failure to write
/// one, so that the run stops at its next batch instead of training on unrecorded.
final class EpochRecorder {
  private let claim: RunClaim
  private let metric: MetricName
  private let sink: any ResultSink
  private var failure: Error?

  init(claim: RunClaim, metric: MetricName, sink: any ResultSink) {
    (self.claim, self.metric, self.sink) = (claim, metric, sink)
  }

  /// A ``TrainingRun`` observer.
  func handle(_ event: TrainingEvent) {
    guard failure == nil else { return }
    switch event {
    case .epochEnded(let summary), .epochRestored(let summary):
      do {
        try sink.recordEpoch(claim, EpochRecord(
          epoch: summary.epoch, trainLoss: summary.trainLoss, trainMetric: summary.trainAccuracy, validationLoss: summary.validationLoss,
          validationMetric: summary.validation.value(metric), seconds: summary.seconds))
      } catch { failure = error }
    default:
      break
    }
  }

  /// Throws the write failure, if there was one (a ``LeaseLostError`` when another worker
  /// took the run).
  func check() throws {
    if let failure { throw failure }
  }
}
