/// What the training loop reports as it goes; progress printers, CSV writers and the
/// results store subscribe (as fastai's callbacks and swift-models' `TrainingLoopEvent`).
public enum TrainingEvent {
  case fitStarted(epochs: Int, batchesPerEpoch: Int, resumedAt: Int)
  case batchEnded(epoch: Int, batch: Int, of: Int, loss: Float, smoothedLoss: Float, imagesPerSecond: Double, learningRate: Float)
  case epochEnded(EpochSummary)
  /// An epoch finished before the run was interrupted, read back from the checkpoint when it
  /// resumes (once per earlier epoch, right after `fitStarted`), so that a record of the
  /// epochs lacks none that the checkpoint holds, even when the process died between
  /// writing the checkpoint and reporting the epoch.
  case epochRestored(EpochSummary)
  /// The run's folder held another run's checkpoints (a sweep re-planned into a new
  /// database over an old work folder); they were removed before training began.
  case otherRunsCheckpointsRemoved(folder: String)
  /// `lr: find`: the range test's pass and the rate the run trains at.
  case learningRateFound(LearningRateFinder.Result, chosen: Float)
  /// An image could not be read; it was left out of its batch.
  case imageSkipped(path: String, reason: String)
  case stoppedEarly(epoch: Int, bestEpoch: Int)
  /// The sweep's pruning rule stopped the run after this epoch.
  case pruned(epoch: Int)
  case fitEnded(bestEpoch: Int, bestMetric: Double)
}

/// One finished epoch: training loss, validation metrics, time.
public struct EpochSummary: Codable, Equatable, Sendable {
  public var epoch: Int
  public var trainLoss: Double
  public var trainAccuracy: Double
  public var validationLoss: Double
  /// The metrics of the model the epoch delivers: the averaged weights when the run
  /// averages them (``TrainingConfiguration/emaDecay``, ``TrainingConfiguration/swaEpochs``).
  public var validation: ClassificationMetrics
  public var seconds: Double
  public var learningRate: Float
  /// When ``validation`` scores averaged weights: the trained weights' own metrics.
  public var withoutAveraging: ClassificationMetrics? = nil
}
