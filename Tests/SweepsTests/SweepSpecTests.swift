import Datasets
import Sweeps
import Training
import XCTest

final class SweepSpecTests: XCTestCase {
  /// The example of the sweeps issue, as written.
  static let example = """
    name: natural-images-baseline
    dataset:
      adapter: natural-images
      root: datasets/natural_images
      split: {train: 0.6, val: 0.2, test: 0.2, seed: 0}   # or {preset: mini}
      # csv adapter: adapter: csv, root: DIR, file: labels.csv, path_column: path, label_column: label
    metric: accuracy            # maximised; logloss is minimised
    grid:
      backbone: [small_cnn, efficientnet_lite0]
      strategy: [scratch, features, finetune]
      lr: [0.001, 0.0003]
    fixed: {epochs: 10, batch_size: 32, image_size: 224, augment: standard}
    budget: {max_runs: 40, max_minutes: 120}
    """

  func testTheIssueExample_parsesAndExpands() throws {
    let spec = try SweepSpec.parse(Self.example, file: "sweep.yaml")
    XCTAssertEqual(spec.name, "natural-images-baseline")
    XCTAssertEqual(spec.dataset.adapter.rawValue, "natural-images")
    XCTAssertEqual(spec.dataset.split, .fractions(.fractions(train: 0.6, validation: 0.2, test: 0.2)))
    XCTAssertEqual(spec.maxRuns, 40)
    let (runs, dropped) = try spec.expand()
    XCTAssertEqual(runs.count, 8, "small_cnn only from scratch: 2 + 6")
    XCTAssertEqual(dropped, ["small_cnn × features (no pretrained weights)", "small_cnn × finetune (no pretrained weights)"])
    XCTAssertTrue(runs.allSatisfy { $0.training.epochs == 10 && $0.training.batchSize == 32 && $0.imageSize == 224 && $0.augmentation == "standard" })
    XCTAssertEqual(Set(runs.map(\.training.learningRate)), [0.001, 0.0003])
  }

  /// An image size small_cnn cannot take is dropped at planning with its reason, not a crash
  /// of the worker that would run it.
  func testAnImageSizeTooSmallForSmallCNN_isDroppedWithItsReason() throws {
    let yaml = Self.example.replacingOccurrences(of: "image_size: 224", with: "image_size: 16")
    let (runs, dropped) = try SweepSpec.parse(yaml, file: "sweep.yaml").expand()
    XCTAssertEqual(runs.map(\.backbone), Array(repeating: .efficientNetLite0, count: 6))
    XCTAssertTrue(dropped.contains("small_cnn × scratch (small_cnn needs image_size of at least 22, got 16)"), "\(dropped)")
  }

  /// Nesting deeper than a spec needs is refused before the YAML parser, which recursed once
  /// per level until the stack overflowed (1,819 nested `{`, found by the spec fuzzer).
  func testDeeplyNestedYAML_isOneErrorNotAStackOverflow() throws {
    let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/nested-1819-levels.yaml")
    let text = String(decoding: try Data(contentsOf: fixture), as: UTF8.self)
    XCTAssertThrowsError(try SweepSpec.parse(text, file: "deep.yaml")) {
      XCTAssertEqual("\($0)", "deep.yaml line 1: nests more than 64 levels deep")
    }
    let blocks = (0..<70).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n") + " 1\n"
    XCTAssertThrowsError(try SweepSpec.parse(blocks, file: "blocks.yaml")) {
      XCTAssertEqual("\($0)", "blocks.yaml line 65: nests more than 64 levels deep")
    }
    let items = String(repeating: "- ", count: 70) + "x\n"
    XCTAssertThrowsError(try SweepSpec.parse(items, file: "items.yaml")) { XCTAssertTrue("\($0)".hasPrefix("items.yaml line 1: nests more than 64"), "\($0)") }
    XCTAssertNoThrow(try SweepSpec.parse(Self.example, file: "sweep.yaml"), "a real spec nests a few levels")
  }

  /// A list of grids expands each in turn: scratch for one backbone, pretrained strategies
  /// with their own values for another.
  func testAListOfGrids_concatenatesTheirRuns() throws {
    let yaml = """
      name: two
      dataset: {adapter: natural-images, root: d}
      grid:
        - {backbone: [small_cnn], strategy: [scratch], lr: [0.003, 0.001]}
        - {backbone: [efficientnet_lite0], strategy: [features, finetune], lr: [0.01]}
      fixed: {epochs: 2}
      """
    let (runs, dropped) = try SweepSpec.parse(yaml, file: "two.yaml").expand()
    XCTAssertEqual(runs.map { "\($0.backbone.rawValue) \($0.strategy.rawValue) \($0.training.learningRate)" },
                   ["small_cnn scratch 0.003", "small_cnn scratch 0.001", "efficientnet_lite0 features 0.01", "efficientnet_lite0 finetune 0.01"])
    XCTAssertEqual(dropped, [])
    XCTAssertThrowsError(try SweepSpec.parse("name: x\ndataset: {adapter: natural-images, root: d}\ngrid: []\n", file: "x.yaml")) {
      XCTAssertEqual("\($0)", "x.yaml line 3: grid must be a mapping or a non-empty list of mappings")
    }
  }

  func testRandomDraws_areSeededAndWithinTheirRanges() throws {
    let yaml = """
      name: heads
      dataset: {adapter: image-folder, root: data, split: {preset: default, seed: 3}}
      grid: {backbone: [efficientnet_lite0], strategy: [features]}
      random:
        n: 5
        lr: {log_uniform: [0.0001, 0.01]}
        dropout: {uniform: [0.1, 0.5]}
        hidden: {choice: [64, 128]}
      """
    let spec = try SweepSpec.parse(yaml, file: "heads.yaml")
    let (runs, _) = try spec.expand()
    XCTAssertEqual(runs.count, 5)
    XCTAssertTrue(runs.allSatisfy { (1e-4...1e-2).contains($0.training.learningRate) && (0.1...0.5).contains($0.dropout) })
    XCTAssertTrue(runs.allSatisfy { [64, 128].contains($0.hidden) })
    XCTAssertEqual(try spec.expand().runs, runs, "same seed, same draws")
  }

  func testBadSpecs_nameTheKeyAndLine() {
    let cases: [(String, String)] = [
      ("name: x\ndataset: {adapter: natural-images, root: d}\ngird: {lr: [1]}\n", "sweep.yaml line 3: unknown key gird in the spec"),
      ("name: x\ndataset: {adapter: natural-images, root: d}\ngrid:\n  lrate: [0.1]\n", "sweep.yaml line 4: unknown hyperparameter lrate"),
      ("name: x\ndataset: {adapter: natural-images, root: d}\ngrid:\n  lr: [0.1, -1]\n", "sweep.yaml line 4: lr must be a number > 0 or find, got -1"),
      ("name: x\ndataset: {adapter: natural-images, root: d}\nfixed: {augment: fancy}\n", "sweep.yaml line 3: augment must be one of keras, light, none, standard, strong, got fancy"),
      ("name: x\ndataset: {adapter: nat, root: d}\n", "sweep.yaml line 2: dataset adapter must be one of"),
      ("name: x\ndataset: {adapter: csv, root: d, clutter: false}\n", "sweep.yaml line 2: dataset key clutter is not an option of csv"),
      ("name: x\ndataset: {adapter: natural-images, root: d}\nmetric: auc\n", "sweep.yaml line 3: metric must be one of"),
      ("name: x\ndataset: {adapter: natural-images, root: d, split: {train: 0.9, val: 0.3}}\n", "sweep.yaml line 2: "),
      ("name: [unclosed\n", "sweep.yaml: not valid YAML"),
    ]
    for (yaml, expected) in cases {
      XCTAssertThrowsError(try SweepSpec.parse(yaml, file: "sweep.yaml"), expected) { error in
        XCTAssertTrue("\(error)".hasPrefix(expected), "\(error) — expected \(expected)")
      }
    }
  }

  /// `head_init` picks how the new classifier starts; unset, pretrained strategies start it
  /// at zero and `scratch` draws it as PyTorch does, and the stored parameters of a spec
  /// without it stay as before (re-planning an old sweep neither duplicates nor loses runs).
  func testHeadInit_setsTheNewClassifiersStart_andDefaultsByStrategy() throws {
    let yaml = """
      name: heads
      dataset: {adapter: natural-images, root: d}
      grid:
        - {backbone: [efficientnet_lite0], strategy: [finetune], head_init: [uniform, zero]}
        - {backbone: [small_cnn, efficientnet_lite0], strategy: [scratch, features]}
      """
    let runs = try SweepSpec.parse(yaml, file: "heads.yaml").expand().runs
    XCTAssertEqual(runs.map { "\($0.backbone.rawValue) \($0.strategy.rawValue) \($0.headInitialization.rawValue)" }, [
      "efficientnet_lite0 finetune uniform", "efficientnet_lite0 finetune zero", "small_cnn scratch uniform",
      "efficientnet_lite0 scratch uniform", "efficientnet_lite0 features zero",
    ])
    XCTAssertEqual(runs.map(\.headInit), [.uniform, .zero, nil, nil, nil])
    let stored = String(decoding: try JSONEncoder().encode(runs[4]), as: UTF8.self)
    XCTAssertFalse(stored.contains("headInit"), stored)
    XCTAssertThrowsError(try SweepSpec.parse("name: x\ndataset: {adapter: natural-images, root: d}\nfixed: {head_init: normal}\n", file: "s.yaml")) {
      XCTAssertEqual("\($0)", "s.yaml line 3: head_init must be one of uniform, zero, got normal")
    }
  }

  /// `cv:` plans one run per fold of every configuration, folds together; the budget counts
  /// configurations, so none is cut short of a fold; the YAML form reads back the same.
  func testCrossValidation_plansEveryFoldOfEveryConfiguration() throws {
    let yaml = """
      name: cv
      dataset: {adapter: csv, root: d}
      grid: {lr: [0.1, 0.01, 0.001]}
      budget: {max_runs: 2}
      cv: {folds: 5, seed: 3, group_column: patient}
      """
    let spec = try SweepSpec.parse(yaml, file: "cv.yaml")
    XCTAssertEqual(spec.crossValidation, CrossValidation(folds: 5, seed: 3, groupColumn: "patient"))
    let runs = try spec.expand().runs
    XCTAssertEqual(runs.map(\.fold), [0, 1, 2, 3, 4, 0, 1, 2, 3, 4])
    XCTAssertEqual(runs.map(\.training.learningRate), [Float](repeating: 0.1, count: 5) + [Float](repeating: 0.01, count: 5))
    XCTAssertEqual(Set(try runs.map { try $0.configuration.canonicalJSON() }).count, 2)
    XCTAssertEqual(Set(try runs.map { try $0.canonicalJSON() }).count, 10, "the fold is part of each run's identity")
    let read = try SweepSpec.parse(try spec.yaml(), file: "again.yaml")
    XCTAssertEqual(read.crossValidation, spec.crossValidation)
    XCTAssertEqual(try read.expand().runs, runs)
    let bad: [(String, String)] = [
      ("cv: {folds: 1}", "cv.yaml line 3: cv folds must be between 2 and 100, got 1"),
      ("cv: {seed: 1}", "cv.yaml line 3: cv needs folds"),
      ("cv: {folds: 5, group: p}", "cv.yaml line 3: unknown key group in cv"),
      ("cv: {folds: 5, group_column: [a]}", "cv.yaml line 3: cv group_column must be a column name"),
    ]
    for (line, expected) in bad {
      XCTAssertThrowsError(try SweepSpec.parse("name: x\ndataset: {adapter: csv, root: d}\n\(line)\n", file: "cv.yaml")) {
        XCTAssertTrue("\($0)".hasPrefix(expected), "\($0) — expected \(expected)")
      }
    }
  }

  /// `lr: find` is a value of `lr` like any other: it plans its own runs, is stored with
  /// them, and reads back from the YAML form.
  func testLrFind_isAValueOfLr() throws {
    let yaml = "name: x\ndataset: {adapter: natural-images, root: d}\ngrid: {lr: [find, 0.001]}\n"
    let spec = try SweepSpec.parse(yaml, file: "s.yaml")
    let runs = try spec.expand().runs
    XCTAssertEqual(runs.map(\.lrFind), [true, nil])
    XCTAssertEqual(runs.map { Hyperparameter.lr.value(in: $0)?.description }, ["find", "0.001"])
    XCTAssertTrue(try runs[0].canonicalJSON().contains("\"lrFind\":true"))
    XCTAssertEqual(try SweepSpec.parse(try spec.yaml(), file: "again.yaml").expand().runs, runs)
  }

  func testBudget_capsTheRuns() throws {
    let yaml = "name: x\ndataset: {adapter: natural-images, root: d}\ngrid: {lr: [0.1, 0.2, 0.3], seed: [1, 2]}\nbudget: {max_runs: 4}\n"
    XCTAssertEqual(try SweepSpec.parse(yaml, file: "s.yaml").expand().runs.count, 4)
  }
}

/// A spec built in code (the demo's) is stored as YAML that reads back to the same spec.
final class SweepSpecYAMLTests: XCTestCase {
  func testDemoSpec_roundTripsThroughYAML_withAnAwkwardRoot() throws {
    for root in ["datasets/demo", #"data/"quoted": and # not a comment"#, "123"] {
      for (pretrained, quick) in [(true, false), (false, true)] {
        let spec = SweepSpec.demo(name: "demo", root: root, pretrained: pretrained, quick: quick)
        let text = try spec.yaml()
        let read = try SweepSpec.parse(text, file: "demo.yaml")
        XCTAssertEqual(read.dataset.root, root, text)
        XCTAssertEqual(read.dataset.split, spec.dataset.split)
        XCTAssertEqual(try read.expand().runs, try spec.expand().runs, text)
        XCTAssertEqual(try spec.expand().runs.count, pretrained ? 2 + 4 + 1 : 1)
      }
    }
  }

  func testTheIssueExample_roundTripsThroughYAML() throws {
    let spec = try SweepSpec.parse(SweepSpecTests.example, file: "sweep.yaml")
    let read = try SweepSpec.parse(try spec.yaml(), file: "again.yaml")
    XCTAssertEqual(try read.expand().runs, try spec.expand().runs)
    XCTAssertEqual(read.maxRuns, 40)
    XCTAssertEqual(read.maxMinutes, 120)
  }
}

/// A spec cannot plan more runs than a sweep may hold: the count is checked before any
/// combination is built, so a crafted grid cannot exhaust memory.
final class SweepSpecLimitTests: XCTestCase {
  func testAGridOfAstronomicalSize_isOneClearError() throws {
    let values = "[" + (1...100).map { "0.\($0)" }.joined(separator: ", ") + "]"
    let keys = ["lr", "momentum", "weight_decay", "dropout", "label_smoothing", "lr_decay", "finetune_momentum", "finetune_rate_scale"]
    let grid = keys.map { "  \($0): \(values)" }.joined(separator: "\n")
    let spec = try SweepSpec.parse("name: huge\ndataset: {adapter: natural-images, root: d}\ngrid:\n\(grid)\n", file: "huge.yaml")
    XCTAssertThrowsError(try spec.expand()) {
      XCTAssertEqual("\($0)", "sweep huge: the grid and random draws plan 10000000000000000 runs, more than the 100000 a sweep may hold; split it into several sweeps")
    }
  }
}
