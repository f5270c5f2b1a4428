import ArgumentParser
import Backbones
import Datasets
import Engine
import Foundation
import Reports
import ResultsStore
import Training

extension Podium {
  /// `podium bench --kernels` (GFLOP/s of the engine's kernels) and `podium bench --backbone`
  /// (images per second of a whole network).
  struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Measure the engine's speed (use a release build).",
      discussion: """
        --kernels times cblas_sgemm and each convolution kind on representative shapes,
        forward and backward, and prints GFLOP/s. Each kernel is checked against its
        naive reference before it is timed.
        --backbone times a whole network on random images at its input size with a
        1000-class head: infer (evaluation forward), train (forward, cross-entropy,
        backward, SGD step, all layers trainable) or finetune (only the last stage and
        the classifier trainable).
        --mode merge writes a synthetic cluster sweep (--runs shards of --epochs epochs, a
        200-image validation split of 10 classes each) and times `sweep merge` on it.
        --mode report writes a synthetic sweep of --runs runs (six learning rates over
        seeds, 64 validation and 100 test images of 8 classes) into --folder and times
        `podium report` on it, printing the report's size.
        """)

    @Flag(help: "Benchmark the GEMM and convolution kernels.")
    var kernels = false

    @Option(help: "Benchmark a whole backbone: \(BackboneName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var backbone: BackboneName?

    @Option(help: "infer, train or finetune (with --backbone); data: decoding and augmenting 500×375 JPEGs into batches; merge: folding a cluster sweep's shards; report: writing a large sweep's report.")
    var mode: BenchMode = .infer

    @Option(help: "With --mode merge or report: runs (shards).")
    var runs = 1000
    @Option(help: "With --mode merge: epochs per run.")
    var epochs = 50
    @Option(help: "With --mode merge or report: the folder to write the store (and shards or report) in (replaced).")
    var folder = "bench-merge"

    @Option(help: "Batch size of the convolution benchmarks.")
    var batch = 32

    @Flag(help: "With --backbone: feed the steps from the batch loader over generated 500×375 JPEGs and report the time spent waiting for data.")
    var photos = false

    @Option(help: "Worker threads (default: all cores, or PODIUM_THREADS).")
    var threads: Int?

    @Option(help: "Timed repetitions per kernel or step (the median is reported).")
    var repeats = 5

    @Flag(help: "Print one JSON object per line instead of a table.")
    var json = false

    func validate() throws {
      let wholeNetwork = backbone != nil || [.data, .merge, .report].contains(mode)
      guard kernels != wholeNetwork else {
        throw ValidationError(kernels ? "pass --kernels or --backbone, not both" : "nothing to benchmark: pass --kernels, --backbone NAME or --mode data")
      }
      guard batch >= 1 else { throw ValidationError("--batch must be at least 1, got \(batch)") }
      guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1, got \(repeats)") }
      if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    func run() throws {
      if let threads { Parallel.threadCount = threads }
      if mode == .merge {
        let result = try MergeBenchmark(runs: runs, epochs: epochs, folder: URL(fileURLWithPath: folder)).run()
        print(json ? try jsonLine(result) : String(
          format: "merge of %d shards (%d epochs, %d validation predictions each): %.1f MB of shards written in %.1f s; merged in %.2f s into a %.1f MB store; merging again took %.2f s",
          result.runs, result.epochs, result.validationImages, result.shardsMegabytes, result.writeShardsSeconds, result.mergeSeconds,
          result.storeMegabytes, result.secondMergeSeconds))
        return
      }
      if mode == .report {
        let result = try ReportBenchmark(runs: runs, folder: URL(fileURLWithPath: folder)).run()
        print(json ? try jsonLine(result) : String(
          format: "report of a %d-run sweep: generated in %.1f s, written in %.2f s; index.html %.2f MB, whole report %.2f MB: %@",
          result.runs, result.generateSeconds, result.reportSeconds, result.indexMegabytes, result.folderMegabytes, result.index))
        return
      }
      if mode == .data {
        let name = backbone ?? .resnet18
        let result = try DataBenchmark(backbone: name.rawValue, preprocessing: name.preprocessing, batch: batch).run()
        print(json ? try jsonLine(result)
              : String(format: "data (%@ preprocessing, light augmentation) batch %d: %.1f images/s", result.backbone, batch, result.imagesPerSecond))
        return
      }
      if let backbone {
        try runBackbone(backbone)
        return
      }
      #if DEBUG
        printToStandardError("warning: debug build; numbers are 10-100x slower than `swift build -c release`")
      #endif
      printToStandardError("OpenBLAS kernel: \(OpenBLASKernelChoice.loadedKernel)")
      printToStandardError("Matrix kernels: \(MatrixKernels.active.rawValue)")
      let benchmark = KernelBenchmark(batch: batch, repeats: repeats)
      if !json {
        print("kernel benchmarks: batch \(batch), \(Parallel.threadCount) threads, median of \(repeats)")
        print("name".padding(toLength: 26, withPad: " ", startingAt: 0) + "      ms    GFLOP/s")
      }
      for result in try benchmark.run() {
        print(json ? result.jsonLine : result.tableRow)
      }
    }
  }
}

extension Podium.Bench {
  private func runBackbone(_ name: BackboneName) throws {
    var benchmark = BackboneBenchmark(backbone: name, mode: BackboneBenchmark.Mode(rawValue: mode.rawValue)!, batch: batch, steps: repeats)
    benchmark.photos = photos
    let result = try benchmark.run()
    if json {
      print(try jsonLine(result))
    } else {
      print(String(format: "%@ %@ batch %d: %.1f images/s, peak RSS %.0f MB (%d threads)", name.rawValue, mode.rawValue,
                   batch, result.imagesPerSecond, result.peakRSSMegabytes, Parallel.threadCount)
            + (result.dataWaitFraction.map { String(format: ", %.1f%% of the time waiting for data", $0 * 100) } ?? ""))
    }
  }
}

/// What `--mode` times.
enum BenchMode: String, CaseIterable, ExpressibleByArgument {
  case infer, train, finetune, data, merge, report
}
