import Foundation
import ResultsStore
import Sweeps
import Training

/// What a report ranks and compares: the finished runs, or under cross-validation the
/// configurations — scored by CV, tested as the mean of their fold models.
struct SweepContender {
  /// `run 3`, or `runs 3–7 (5 folds)`.
  var name: String
  /// The run, or the first fold run (its page is the configuration's link).
  var id: Int64
  /// The run, or every fold run.
  var runIDs: [Int64]
  var backbone: String
  var strategy: String
  /// Every hyperparameter (the fold left out).
  var spec: RunSpec?
  /// Validation metric, or CV score.
  var score: Double?
  var seconds: Double?
  var test: [PredictionRecord]
  /// The metric on ``test``, or nil without a labelled test split.
  var testScore: Double?

  /// Best first, as the report ranks them.
  static func all(_ results: SweepResults) -> [SweepContender] {
    let metric = results.sweep.metric
    guard results.crossValidated.isEmpty else {
      return results.crossValidated.map { model, test in
        SweepContender(name: model.name, id: model.id, runIDs: model.runs.map(\.id), backbone: model.runs[0].backbone, strategy: model.runs[0].strategy, spec: model.spec,
                       score: model.score,
                       seconds: model.seconds, test: test, testScore: Leaderboard.value(test, metric))
      }
    }
    return results.ranked.map { run in
      SweepContender(name: "run \(run.id)", id: run.id, runIDs: [run.id], backbone: run.backbone, strategy: run.strategy, spec: run.spec,
                     score: run.validationMetric,
                     seconds: run.seconds, test: results.testPredictions[run.id] ?? [], testScore: run.testMetric)
    }
  }

  /// Backbones and strategies in first-seen order over `results`' runs, with the best of
  /// `contenders` (ranked best first) for each pair and how many it had.
  static func bestByBackboneAndStrategy(_ results: SweepResults, _ contenders: [SweepContender])
    -> (backbones: [String], strategies: [String], best: [String: (contender: SweepContender, count: Int)])
  {
    var backbones: [String] = [], strategies: [String] = [], best: [String: (contender: SweepContender, count: Int)] = [:]
    for run in results.runs {
      if !backbones.contains(run.backbone) { backbones.append(run.backbone) }
      if !strategies.contains(run.strategy) { strategies.append(run.strategy) }
    }
    for contender in contenders {
      let key = "\(contender.backbone)/\(contender.strategy)"
      best[key] = (best[key]?.contender ?? contender, (best[key]?.count ?? 0) + 1)
    }
    return (backbones, strategies, best)
  }
}
