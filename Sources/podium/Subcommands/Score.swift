import ArgumentParser
import Foundation
import Reports
import Training

extension Podium {
  /// `podium score SUBMISSION --answers ANSWERS`.
  struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Validate a submission and print its public and private scores, as a Kaggle leaderboard does.",
      discussion: "The answers' Usage column (Public/Private) picks the public rows when present; otherwise a seeded split does.")

    @Argument(help: "The submission CSV.") var submission: String
    @Option(help: "The answers CSV: id,label[,Usage].") var answers: String
    @Option(help: "accuracy, logloss, macro-f1, mean-class-accuracy, or map@K (up to K space-separated labels per row, best first).")
    var metric: ScoreMetric = .classification(.accuracy)
    @Option(help: "Share of the rows scored publicly when the answers have no Usage column.") var publicFraction = 0.3
    @Option(help: "Seed of the public/private split.") var seed: UInt64 = 0

    func validate() throws {
      guard publicFraction >= 0, publicFraction <= 1 else { throw ValidationError("--public-fraction must be between 0 and 1") }
    }

    func run() throws {
      let score = try Scorer(scoring: metric, publicFraction: publicFraction, seed: seed)
        .score(submission: URL(fileURLWithPath: submission), answers: URL(fileURLWithPath: answers))
      print(Self.describe(score, submission: submission))
    }

    static func describe(_ score: Reports.Score, submission: String) -> String {
      let total = max(score.publicCount + score.privateCount, 1)
      let source = score.fromUsageColumn ? "Usage column" : "seeded split"
      return """
        \(submission): valid, \(score.publicCount + score.privateCount) rows scored
        public  (\(score.publicCount) rows, \(100 * score.publicCount / total)%, \(source)): \(score.metric) \(String(format: "%.5f", score.publicScore))
        private (\(score.privateCount) rows, \(100 * score.privateCount / total)%): \(score.metric) \(String(format: "%.5f", score.privateScore))
        """
    }
  }
}

extension ScoreMetric: ExpressibleByArgument {
  public init?(argument: String) { self.init(argument) }
}
