import Foundation

/// Runs the built `podium` executable and collects its exit status and output.
struct PodiumRunner {
  /// The `podium` binary in the build folder that holds the test bundle (on Linux the
  /// bundle URL is that folder; on macOS it is the `.xctest` inside it).
  var executable: URL {
    let bundle = Bundle(for: BundleMarker.self).bundleURL
    let candidates = [bundle, bundle.deletingLastPathComponent()].map { $0.appendingPathComponent("podium") }
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
  }

  /// Runs `podium arguments` (in `directory` when given), with `HOME` replaced when `home`
  /// is given, the variables in `setting` set and those in `unsetting` removed from its environment, and under
  /// `ulimit -v` (virtual memory, in KiB) when `memoryLimitKB` is given. Under
  /// AddressSanitizer (`ASAN_OPTIONS` set: `scripts/sanitizers/test.sh`), whose shadow memory
  /// alone exceeds any such limit, the same bound is ASan's largest allowed allocation.
  func run(_ arguments: [String], home: URL? = nil, setting: [String: String] = [:], unsetting: [String] = [], memoryLimitKB: Int? = nil,
           directory: URL? = nil) throws
    -> (status: Int32, stdout: String, stderr: String)
  {
    let process = Process()
    process.currentDirectoryURL = directory
    let underAddressSanitizer = Self.commandEnvironment["ASAN_OPTIONS"] != nil
    if let memoryLimitKB, !underAddressSanitizer {
      process.executableURL = URL(fileURLWithPath: "/bin/sh")
      process.arguments = ["-c", "ulimit -v \(memoryLimitKB) && exec \"$0\" \"$@\"", executable.path] + arguments
    } else {
      process.executableURL = executable
      process.arguments = arguments
    }
    var environment = Self.commandEnvironment
    if let home { environment["HOME"] = home.path }
    environment.merge(setting) { $1 }
    for name in unsetting { environment[name] = nil }
    if let memoryLimitKB, underAddressSanitizer {
      environment["ASAN_OPTIONS", default: ""] += ":max_allocation_size_mb=\(memoryLimitKB / 1024)"
    }
    process.environment = environment
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Drain standard error on another thread so neither pipe can fill and block the child.
    final class Collected: @unchecked Sendable { var data = Data() }
    let errors = Collected(), group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
      errors.data = err.fileHandleForReading.readDataToEndOfFile()
      group.leave()
    }
    let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    group.wait()
    process.waitUntilExit()
    return (process.terminationStatus, stdout, String(decoding: errors.data, as: UTF8.self))
  }
}

extension PodiumRunner {
  /// The environment for a `podium` the tests start: this process's, with
  /// `PODIUM_COMMAND_ASAN_OPTIONS` as `ASAN_OPTIONS` when set. `scripts/sanitizers/test.sh`
  /// runs the XCTest process without LeakSanitizer (swift-corelibs-xctest keeps every test
  /// case, and all it holds, alive to the end) and every command with it.
  static var commandEnvironment: [String: String] {
    var environment = ProcessInfo.processInfo.environment
    if let options = environment["PODIUM_COMMAND_ASAN_OPTIONS"] { environment["ASAN_OPTIONS"] = options }
    return environment
  }
}

private final class BundleMarker {}
