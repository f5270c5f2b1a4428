import Engine
import Sweeps
import ResultsStore
import Training

/// Orders runs best first by a validation metric (larger first, or smaller for log loss),
/// ties broken by run id so the order is stable. Only finished runs (done or pruned) with a
/// metric are ranked.
public enum RunRanking {
  public static func ranked(_ runs: [StoredRun], by metric: MetricName) -> [StoredRun] {
    runs.filter { $0.status.isFinished && $0.validationMetric?.isFinite == true }
      .sorted { a, b in
        let (x, y) = (a.validationMetric!, b.validationMetric!)
        return x == y ? a.id < b.id : metric.isBetter(x, than: y)
      }
  }
}

/// Kaggle's public/private division of a test set: the answers file's `Usage` column when it
/// has one, else a deterministic split of the ids — sorted, shuffled with `seed`, and the first
/// `fraction` of them public — so the same ids, fraction and seed always split the same way.
public enum PublicPrivateSplit {
  /// The ids that are public.
  public static func publicIDs(_ ids: [String], fraction: Double, seed: UInt64) -> Set<String> {
    var rng = SeededGenerator(seed: seed)
    let shuffled = Array(Set(ids)).sorted().shuffled(using: &rng)
    return Set(shuffled.prefix(Int((Double(shuffled.count) * fraction).rounded())))
  }

  /// `metric` on the public and on the private part of labelled test predictions (nil for
  /// a part without images).
  static func scores(_ test: [PredictionRecord], metric: MetricName, fraction: Double = 0.3, seed: UInt64 = 0)
    -> (public: Double?, private: Double?)
  {
    let publicIDs = publicIDs(test.map(\.imageID), fraction: fraction, seed: seed)
    return (Leaderboard.value(test.filter { publicIDs.contains($0.imageID) }, metric),
            Leaderboard.value(test.filter { !publicIDs.contains($0.imageID) }, metric))
  }
}
