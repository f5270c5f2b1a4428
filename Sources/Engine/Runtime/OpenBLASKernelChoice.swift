import CBLAS
import Foundation

/// Chooses OpenBLAS's GEMM kernel for CPUs its build does not recognise.
///
/// OpenBLAS picks its kernels when the library loads, from `OPENBLAS_CORETYPE` or from
/// the CPU model. Debian's 0.3.21 does not know recent CPUs (Sapphire Rapids, for one)
/// and falls back to its SSE3 "Prescott" kernels, which run SGEMM at a fifth of the
/// speed of the AVX-512 ones on the same core (measured here: 16 vs 90 GFLOP/s per core).
/// The choice cannot change after loading, so the `podium` executable calls
/// ``reexecuteWithBetterKernelIfNeeded()`` first thing: when the variable is unset and the
/// loaded kernel lacks the vector units the CPU has, it sets the variable and re-executes
/// itself once. A user's own `OPENBLAS_CORETYPE` is always respected.
public enum OpenBLASKernelChoice {
  /// OpenBLAS kernels written for CPUs without AVX2, which it also falls back to for
  /// models it does not know (lower-case, as ``loadedKernel`` reports them).
  public static let preAVX2Kernels: Set<String> = [
    "prescott", "core2", "penryn", "dunnington", "nehalem", "sandybridge", "barcelona",
    "atom", "katmai", "coppermine", "northwood", "banias", "unknown",
  ]

  /// The kernel OpenBLAS loaded, lower-cased (`prescott`, `haswell`, `skylakex`, ...).
  public static var loadedKernel: String {
    String(cString: openblas_get_corename()).lowercased()
  }

  /// The OpenBLAS core type that suits a CPU with these `/proc/cpuinfo` flags, or nil
  /// when it has no AVX2/FMA.
  public static func recommendedCoreType(cpuFlags: Set<String>) -> String? {
    if cpuFlags.contains("avx512_bf16") && cpuFlags.contains("avx512f") { return "Cooperlake" }
    if cpuFlags.contains("avx512f") && cpuFlags.contains("avx512bw") { return "SkylakeX" }
    if cpuFlags.contains("avx2") && cpuFlags.contains("fma") { return "Haswell" }
    return nil
  }

  /// The flags of the first CPU in `/proc/cpuinfo` (empty where there is none).
  public static func cpuFlags() -> Set<String> {
    guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
      let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
      let colon = line.firstIndex(of: ":")
    else { return [] }
    return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
  }

  /// Re-executes the current process with `OPENBLAS_CORETYPE` set when that gives a
  /// faster GEMM; returns normally when nothing needs to change or re-execution fails.
  public static func reexecuteWithBetterKernelIfNeeded() {
    let environment = ProcessInfo.processInfo.environment
    guard environment["OPENBLAS_CORETYPE"] == nil, environment["PODIUM_NO_REEXEC"] == nil,
      preAVX2Kernels.contains(loadedKernel),
      let coreType = recommendedCoreType(cpuFlags: cpuFlags())
    else { return }
    setenv("OPENBLAS_CORETYPE", coreType, 1)
    setenv("PODIUM_NO_REEXEC", "1", 1)  // never loop, whatever the new process finds
    execv("/proc/self/exe", CommandLine.unsafeArgv)
  }
}
