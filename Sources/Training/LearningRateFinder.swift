import Foundation

/// The learning-rate range test (Smith, "Cyclical Learning Rates for Training Neural
/// Networks", 2015; fastai's `lr_find`): train for one short pass with the rate growing
/// exponentially from `start` to `end`, smooth the loss (an exponential moving average,
/// debiased as Adam's moments are), stop once it diverges, and suggest a rate.
public struct LearningRateFinder: Sendable {
  public var start: Float = 1e-7
  public var end: Float = 10
  /// Steps in the pass (batches, cycling through the training set when it has fewer).
  public var steps = 100
  /// The moving average's weight of the past (fastai's 0.98).
  public var smoothing: Float = 0.98
  /// The pass stops when the smoothed loss exceeds this many times its minimum.
  public var divergence: Float = 4

  public init() {}

  /// The rate at step `index` of the pass.
  public func rate(at index: Int) -> Float {
    start * pow(end / start, Float(index) / Float(max(steps - 1, 1)))
  }

  /// What the pass saw and what it suggests.
  public struct Result: Codable, Equatable, Sendable {
    public var rates: [Float] = []
    public var losses: [Float] = []
    public var smoothed: [Float] = []
    /// True when the pass stopped on a diverging (or non-finite) loss.
    public var diverged = false

    /// The rate where the smoothed loss falls fastest against log rate, between the first
    /// tenth of the pass (whose few averaged steps are noise, as fastai's `skip_start`) and
    /// the minimum: fastai's "steep" suggestion.
    public var steepest: Float? {
      let first = max(1, rates.count / 10)
      guard let minimum = minimumIndex, minimum > first else { return nil }
      let slopes: [Float] = (first..<minimum).map { (i: Int) -> Float in
        let rise: Float = smoothed[i + 1] - smoothed[i - 1]
        let run: Float = log(rates[i + 1]) - log(rates[i - 1])
        return rise / run
      }
      guard let steepest = slopes.indices.min(by: { slopes[$0] < slopes[$1] }) else { return nil }
      return rates[steepest + first]
    }

    /// A tenth of the rate at the smoothed loss's minimum (fastai's "minimum" suggestion).
    public var minimumTenth: Float? {
      minimumIndex.map { rates[$0] / 10 }
    }

    /// The rate a run uses: the steepest descent, else a tenth of the minimum.
    public var suggestion: Float? { steepest ?? minimumTenth }

    /// Where the smoothed loss is lowest; nil when it never fell by 1% below where the pass
    /// began (no rate helped, so none is suggested).
    public var minimumIndex: Int? {
      guard let first = smoothed.first(where: \.isFinite),
        let lowest = smoothed.indices.filter({ smoothed[$0].isFinite }).min(by: { smoothed[$0] < smoothed[$1] }),
        lowest >= 2, smoothed[lowest] < 0.99 * first else { return nil }
      return lowest
    }
  }

  /// Records one step's loss; returns false when the pass should stop (the loss is not
  /// finite, or the smoothed loss diverged).
  func record(_ loss: Float, rate: Float, into result: inout Result, average: inout Float) -> Bool {
    result.rates.append(rate)
    result.losses.append(loss)
    guard loss.isFinite else {
      result.smoothed.append(.nan)
      result.diverged = true
      return false
    }
    average = smoothing * average + (1 - smoothing) * loss
    let smoothedLoss = average / (1 - pow(smoothing, Float(result.losses.count)))
    result.smoothed.append(smoothedLoss)
    let best = result.smoothed.filter(\.isFinite).min() ?? smoothedLoss
    if result.smoothed.count > 1, smoothedLoss > divergence * best {
      result.diverged = true
      return false
    }
    return true
  }
}

extension Trainer {
  /// Runs the range test on the model (changing its weights: give it a copy that is thrown
  /// away) with the configuration's optimizer, the rate set before every step.
  ///
  /// - Throws: ``TrainingError`` when the training set yields no batch.
  public func findLearningRate(train: any BatchSource, finder: LearningRateFinder = LearningRateFinder()) throws -> LearningRateFinder.Result {
    let optimizer = configuration.makeOptimizer(model.trainingNetwork.trainableParameters)
    model.setTraining(true)
    var result = LearningRateFinder.Result(), average: Float = 0, epoch = 0
    pass: while result.rates.count < finder.steps {
      var any = false
      for batch in train.epoch(epoch, shuffle: true) where !batch.samples.isEmpty {
        any = true
        let rate = finder.rate(at: result.rates.count)
        let (loss, _) = try trainStep(batch, optimizer: optimizer, learningRate: rate, step: result.rates.count)
        guard finder.record(loss, rate: rate, into: &result, average: &average), result.rates.count < finder.steps else { break pass }
      }
      guard any else { throw TrainingError("the learning-rate finder found no readable training images") }
      epoch += 1
    }
    return result
  }
}
