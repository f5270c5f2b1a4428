import Engine
import Foundation
import XCTest

/// Runs the built `podium` executable as a user would.
final class PodiumCLITests: XCTestCase {
  private let cli = PodiumRunner()

  private func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    try cli.run(arguments)
  }

  func testHelp_listsTheBenchSubcommand() throws {
    let result = try run(["--help"])
    XCTAssertEqual(result.status, 0)
    XCTAssertTrue(result.stdout.contains("bench"), result.stdout)
  }

  func testBenchKernelsJSON_printsOneObjectPerKernel() throws {
    let result = try run(["bench", "--kernels", "--json", "--batch", "1", "--repeats", "1"])
    XCTAssertEqual(result.status, 0, result.stderr)
    let lines = result.stdout.split(separator: "\n")
    let objects = try lines.map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    let names = objects.compactMap { $0["name"] as? String }
    XCTAssertEqual(names, [
      "sgemm_1024", "sgemm_2048", "conv3x3_64_56_fwd", "conv3x3_64_56_bwd", "conv3x3s2_64_56_fwd",
      "conv3x3s2_64_56_bwd", "conv1x1_256_64_56_fwd", "conv1x1_256_64_56_bwd", "dw3x3_32_112_fwd",
      "dw3x3_32_112_bwd", "stem3x3s2_3_32_224_fwd", "stem3x3s2_3_32_224_bwd", "stem7x7s2_3_64_224_fwd",
      "stem7x7s2_3_64_224_bwd", "bn_relu6_bwd_32_112_separate", "bn_relu6_bwd_32_112_fused", "bn_relu6_bwd_144_56_separate",
      "bn_relu6_bwd_144_56_fused",
    ])
    for object in objects {
      let gflops = try XCTUnwrap(object["gflops"] as? Double), ms = try XCTUnwrap(object["ms"] as? Double)
      XCTAssertGreaterThan(gflops, 0)
      XCTAssertGreaterThan(ms, 0)
    }
  }

  func testBench_badArguments_failWithOneClearLine() throws {
    for (arguments, expected) in [
      (["bench", "--kernels", "--batch", "0"], "--batch must be at least 1, got 0"),
      (["bench"], "nothing to benchmark: pass --kernels"),
      (["bench", "--kernels", "--threads", "0"], "--threads must be at least 1, got 0"),
    ] {
      let result = try run(arguments)
      XCTAssertNotEqual(result.status, 0, "\(arguments)")
      XCTAssertTrue(result.stderr.contains("Error: \(expected)"), "\(arguments): \(result.stderr)")
    }
  }

  /// On a CPU with AVX2 whose model Debian's OpenBLAS does not know, `podium` re-executes
  /// itself with a fitting OPENBLAS_CORETYPE instead of running the SSE3 fallback kernels.
  /// The child runs without the variable, whatever the test process has, so that podium
  /// makes the choice itself.
  func testBench_neverRunsTheFallbackKernelOnAVX2Machines() throws {
    guard OpenBLASKernelChoice.recommendedCoreType(cpuFlags: OpenBLASKernelChoice.cpuFlags()) != nil else {
      throw XCTSkip("this CPU has no AVX2: OpenBLAS's own choice stands")
    }
    let result = try cli.run(["bench", "--kernels", "--json", "--batch", "1", "--repeats", "1"],
                             unsetting: ["OPENBLAS_CORETYPE", "PODIUM_NO_REEXEC", "PODIUM_MATRIX_KERNELS"])
    let lines = result.stderr.split(separator: "\n")
    let line = try XCTUnwrap(lines.first { $0.hasPrefix("OpenBLAS kernel: ") })
    let kernel = String(line.dropFirst("OpenBLAS kernel: ".count))
    XCTAssertFalse(OpenBLASKernelChoice.preAVX2Kernels.contains(kernel), "ran OpenBLAS's \(kernel) kernels")
    // Podium's own matrix kernels: the widest variant this CPU has.
    XCTAssertTrue(lines.contains("Matrix kernels: \(MatrixKernels.supported.last!.rawValue)"), "\(lines)")
  }
}
