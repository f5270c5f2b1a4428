import ArgumentParser
import Engine

/// The `podium` command: a Kaggle-style harness for image classification by transfer learning.
struct Podium: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "podium",
    abstract: "Sweeps of backbone × strategy × hyperparameters for image classification, on the CPU.",
    version: PodiumVersion.current,
    subcommands: [Demo.self, Sweep.self, Train.self, LearningRateFind.self, Report.self, Submit.self, EnsembleCommand.self, Score.self, LeaderboardCommand.self, DatasetsCommand.self, Classify.self, Weights.self, Bench.self])
}

/// Podium's version, printed by `podium --version` and stored with every run.
enum PodiumVersion {
  static let current = "0.1.0"
}

/// Entry point: pick OpenBLAS's best kernel for this CPU, then parse the command line.
@main
enum PodiumMain {
  static func main() {
    OpenBLASKernelChoice.reexecuteWithBetterKernelIfNeeded()
    Podium.main()
  }
}
