import Engine
import XCTest

final class OpenBLASKernelChoiceTests: XCTestCase {
  func testRecommendedCoreType_followsTheWidestVectorUnits() {
    XCTAssertEqual(OpenBLASKernelChoice.recommendedCoreType(cpuFlags: ["avx2", "fma", "avx512f", "avx512bw", "avx512_bf16"]), "Cooperlake")
    XCTAssertEqual(OpenBLASKernelChoice.recommendedCoreType(cpuFlags: ["avx2", "fma", "avx512f", "avx512bw"]), "SkylakeX")
    XCTAssertEqual(OpenBLASKernelChoice.recommendedCoreType(cpuFlags: ["avx", "avx2", "fma"]), "Haswell")
    XCTAssertNil(OpenBLASKernelChoice.recommendedCoreType(cpuFlags: ["sse2", "avx"]))
  }

  func testCPUFlags_areReadFromProcCPUInfo() {
    let flags = OpenBLASKernelChoice.cpuFlags()
    #if arch(x86_64) && os(Linux)
      XCTAssertTrue(flags.contains("sse2"), "every x86-64 CPU lists sse2: \(flags.sorted().prefix(5))")
    #endif
  }
}
