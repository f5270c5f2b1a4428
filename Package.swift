// swift-tools-version:5.9
import PackageDescription

/// Builds target Haswell-class x86-64 (AVX2 + FMA) so the engine's SIMD loops use 8-wide
/// vectors; every x86-64 CPU from the last decade (and the CI machines) has it.
#if arch(x86_64)
let vectorISA: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"])]
let vectorISAForC: [CSetting] = [.unsafeFlags(["-march=haswell"])]
#else
let vectorISA: [SwiftSetting] = []
let vectorISAForC: [CSetting] = []
#endif

let package = Package(
  name: "Podium",
  platforms: [.macOS(.v13)],
  products: [
    .executable(name: "podium", targets: ["podium"]),
    .library(name: "Engine", targets: ["Engine"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
    .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
  ],
  targets: [
    // MARK: - C libraries
    .systemLibrary(name: "CBLAS", providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(name: "CCSV", providers: [.apt(["libcsv-dev"])]),
    .target(name: "CMatrixKernels", cSettings: vectorISAForC),
    .target(name: "CChannelKernels", cSettings: vectorISAForC),
    .target(
      name: "CImageCodecs",
      cSettings: vectorISAForC,
      linkerSettings: [.linkedLibrary("jpeg"), .linkedLibrary("png")]),

    // MARK: - Podium libraries (each imports only those above it; scripts/lint/check_imports.py
    // fails on any module a target imports without declaring it here)
    .target(name: "Engine", dependencies: ["CBLAS", "CMatrixKernels", "CChannelKernels", .product(name: "Crypto", package: "swift-crypto")], swiftSettings: vectorISA),
    .target(name: "Imaging", dependencies: ["Engine", "CImageCodecs"], swiftSettings: vectorISA),
    .target(name: "Datasets", dependencies: ["Engine", "Imaging", "CCSV"]),
    .target(name: "Backbones", dependencies: ["Engine", "Imaging"], swiftSettings: vectorISA),
    .target(name: "Training", dependencies: ["Engine", "Backbones", "Imaging", "Datasets"]),
    .target(name: "Sweeps", dependencies: ["Training", "Datasets", "Backbones", "Engine", "Yams"]),
    .target(
      name: "ResultsStore",
      dependencies: ["Sweeps", "Training", "Datasets", "Engine", .product(name: "GRDB", package: "GRDB.swift")]),
    .target(name: "Reports", dependencies: ["ResultsStore", "Sweeps", "Training", "Datasets", "Imaging", "Engine", "CCSV"]),
    .executableTarget(
      name: "podium",
      dependencies: [
        "Engine", "Backbones", "Imaging", "Datasets", "Training", "Sweeps", "ResultsStore",
        "Reports", .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),

    // MARK: - Fuzzing (scripts/fuzz/run.sh builds it with libFuzzer; a plain build replays files)
    .executableTarget(
      name: "podium-fuzz", dependencies: ["Engine", "Imaging", "Datasets", "Sweeps", "Reports"], path: "Sources/podium-fuzz"),

    // MARK: - Tests
    .target(name: "EngineTestSupport", dependencies: ["Engine"], path: "Tests/EngineTestSupport"),
    .target(name: "DatasetTestSupport", dependencies: ["Imaging", "Engine"], path: "Tests/DatasetTestSupport"),
    .testTarget(
      name: "EngineTests", dependencies: ["Engine", "EngineTestSupport"],
      resources: [.copy("Fixtures")]),
    .testTarget(
      name: "BackbonesTests", dependencies: ["Backbones", "Engine", "EngineTestSupport"],
      resources: [.copy("Fixtures")]),
    .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Backbones", "Imaging", "Engine", "EngineTestSupport", "DatasetTestSupport"]),
    .testTarget(name: "SweepsTests", dependencies: ["Sweeps", "Training", "Datasets", "Yams"], exclude: ["Fixtures"]),
    .testTarget(
      name: "ReportsTests", dependencies: ["Reports", "Backbones", "ResultsStore", "Sweeps", "Training", "Datasets", "Imaging", "Engine"],
      exclude: ["Fixtures"]),
    .testTarget(
      name: "ResultsStoreTests",
      dependencies: ["ResultsStore", "Sweeps", "Training", "Datasets", .product(name: "GRDB", package: "GRDB.swift")]),
    .testTarget(
      name: "TrainingTests", dependencies: ["Training", "Backbones", "Datasets", "Imaging", "Engine", "EngineTestSupport"],
      resources: [.copy("Fixtures")]),
    .testTarget(name: "ImagingTests", dependencies: ["Imaging", "Backbones", "Engine", "EngineTestSupport"], exclude: ["Fixtures"]),
    .testTarget(
      name: "PodiumCLITests",
      dependencies: ["podium", "Engine", "Backbones", "Datasets", "Training", "Sweeps", "ResultsStore", "DatasetTestSupport", "EngineTestSupport"]),
  ]
)
