import ArgumentParser
import Engine
import Foundation

extension Podium {
  /// `podium bench --kernels`: GFLOP/s of the engine's GEMM and convolution kernels.
  struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Measure the engine's speed (use a release build).",
      discussion: """
        --kernels times cblas_sgemm and each convolution kind on representative shapes,
        forward and backward, and prints GFLOP/s. Each kernel is checked against its
        naive reference before it is timed.
        """)

    @Flag(help: "Benchmark the GEMM and convolution kernels.")
    var kernels = false

    @Option(help: "Batch size of the convolution benchmarks.")
    var batch = 32

    @Option(help: "Worker threads (default: all cores, or PODIUM_THREADS).")
    var threads: Int?

    @Option(help: "Timed repetitions per kernel (the median is reported).")
    var repeats = 5

    @Flag(help: "Print one JSON object per line instead of a table.")
    var json = false

    func validate() throws {
      guard kernels else { throw ValidationError("nothing to benchmark: pass --kernels") }
      guard batch >= 1 else { throw ValidationError("--batch must be at least 1, got \(batch)") }
      guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1, got \(repeats)") }
      if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    func run() throws {
      if let threads { Parallel.threadCount = threads }
      #if DEBUG
        printToStandardError("warning: debug build; numbers are 10-100x slower than `swift build -c release`")
      #endif
      printToStandardError("OpenBLAS kernel: \(OpenBLASKernelChoice.loadedKernel)")
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

/// Writes one line to standard error (progress and notes; results go to standard output).
func printToStandardError(_ line: String) {
  FileHandle.standardError.write(Data((line + "\n").utf8))
}
