import Foundation

/// Prints training progress: on a terminal, a batch bar redrawn in place on standard error
/// (rate, ETA, smoothed loss); elsewhere, plain lines. Every epoch ends with a table row on
/// standard output: `epoch  train_loss  valid_loss  <metric>  time` (fastai's layout).
public final class ProgressPrinter {
  private let metric: MetricName
  private let interactive: Bool
  private var epochStart = Date()
  /// Put before every line (`[worker 2] ` when several workers share a terminal).
  public var prefix = ""

  /// `interactive` defaults to whether standard error is a terminal (and `TERM` is not `dumb`).
  public init(metric: MetricName, interactive: Bool? = nil) {
    self.metric = metric
    self.interactive = interactive ?? (isatty(2) != 0 && ProcessInfo.processInfo.environment["TERM"] != "dumb")
  }

  /// Handles one event; pass as a ``Trainer`` observer.
  public func handle(_ event: TrainingEvent) {
    switch event {
    case let .fitStarted(epochs, _, resumedAt):
      if resumedAt > 0 { note("resuming after epoch \(resumedAt) of \(epochs)") }
      print(prefix + "epoch  train_loss  valid_loss  \(metric.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0))  time")
      epochStart = Date()
    case let .batchEnded(epoch, batch, total, _, smoothed, rate, learningRate) where interactive:
      let elapsed = Date().timeIntervalSince(epochStart)
      let eta = Double(total - batch) * elapsed / Double(max(batch, 1))
      let bar = String(repeating: "=", count: 20 * batch / max(total, 1)).padding(toLength: 20, withPad: " ", startingAt: 0)
      note(String(format: "\repoch %d [%@] %d/%d  loss %.4f  lr %.2e  %.0f img/s  eta %.0fs ", epoch + 1, bar, batch, total,
                  smoothed, learningRate, rate, eta), newline: false)
    case .epochEnded(let summary):
      // Erase the whole progress line (however wide it was), not a fixed width of it.
      if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
      let raw = summary.withoutAveraging.map { String(format: "  (trained weights %.4f)", $0.value(metric)) } ?? ""
      print(prefix + String(format: "%5d  %10.4f  %10.4f  %10.4f  %.1fs", summary.epoch + 1, summary.trainLoss, summary.validationLoss,
                   summary.validation.value(metric), summary.seconds) + raw)
      epochStart = Date()
    case let .imageSkipped(path, reason):
      note("skipped \(path): \(reason)")
    case let .learningRateFound(found, chosen):
      note(String(format: "learning-rate finder: steepest descent at %.2e, minimum/10 %.2e; training at %.2e", found.steepest ?? .nan,
                  found.minimumTenth ?? .nan, chosen))
    case .otherRunsCheckpointsRemoved(let folder):
      note("removed another run's checkpoints from \(folder): they did not match this run's settings and images")
    case let .stoppedEarly(epoch, bestEpoch):
      note("stopped early after epoch \(epoch + 1): no improvement since epoch \(bestEpoch + 1)")
    case let .fitEnded(bestEpoch, bestMetric):
      note(String(format: "best epoch %d: %@ %.4f", bestEpoch + 1, metric.rawValue, bestMetric))
    default:
      break
    }
  }

  private func note(_ text: String, newline: Bool = true) {
    let prefixed = text.hasPrefix("\r") ? "\r" + prefix + text.dropFirst() : prefix + text
    FileHandle.standardError.write(Data((prefixed + (newline ? "\n" : "")).utf8))
  }
}
