import Sweeps
import Training
import XCTest

/// The stored form of planned runs does not change between Podium versions: a sweep
/// planned by an older version re-plans to exactly the runs it stored, none duplicated,
/// none lost. The expected strings are what Podium stored before the hyperparameter table
/// existed (commit 2dd14ac), byte for byte.
final class StoredParamsTests: XCTestCase {
  static let spec = """
    name: stored
    dataset: {adapter: natural-images, root: data}
    grid:
      - {backbone: [small_cnn], strategy: [scratch], lr: [0.003], image_size: [32], epochs: [2]}
      - backbone: [efficientnet_lite0]
        strategy: [features]
        head: [mlp, ovr]
        class_weight: [balanced]
        feature_stage: [stage6]
        augment_copies: [2]
        patience: [3]
      - backbone: [resnet18]
        strategy: [finetune]
        lr_decay: [0.5]
        head_init: [uniform]
        unfreeze: [2]
        augment: [none]
        optimizer: [sgd]
        momentum: [0.8]
        schedule: [onecycle]
        weight_decay: [0.0001]
        label_smoothing: [0.1]
        dropout: [0.2]
        seed: [7]
        batch_size: [16]
        head_epochs: [0]
        hidden: [64]
    """

  static let stored = [
    #"{"augmentation":"light","backbone":"small_cnn","dropout":0.5,"finetuneRateScale":0.1,"headEpochs":1,"imageSize":32,"strategy":"scratch","training":{"batchSize":32,"epochs":2,"labelSmoothing":0,"learningRate":0.003,"metric":"accuracy","momentum":0.9,"nesterov":false,"optimizer":"adam","schedule":"cosine","seed":0,"warmupEpochs":0,"weightDecay":0},"unfreeze":1}"#,
    #"{"augmentCopies":2,"augmentation":"light","backbone":"efficientnet_lite0","dropout":0.5,"featureStage":"stage6","finetuneRateScale":0.1,"headEpochs":1,"hidden":256,"strategy":"features","training":{"batchSize":32,"classWeight":"balanced","epochs":10,"labelSmoothing":0,"learningRate":0.001,"metric":"accuracy","momentum":0.9,"nesterov":false,"optimizer":"adam","patience":3,"schedule":"cosine","seed":0,"warmupEpochs":0,"weightDecay":0},"unfreeze":1}"#,
    #"{"augmentCopies":2,"augmentation":"light","backbone":"efficientnet_lite0","dropout":0.5,"featureStage":"stage6","finetuneRateScale":0.1,"headEpochs":1,"strategy":"features","training":{"batchSize":32,"classWeight":"balanced","epochs":10,"labelSmoothing":0,"learningRate":0.001,"metric":"accuracy","momentum":0.9,"nesterov":false,"objective":"ovr","optimizer":"adam","patience":3,"schedule":"cosine","seed":0,"warmupEpochs":0,"weightDecay":0},"unfreeze":1}"#,
    #"{"augmentation":"none","backbone":"resnet18","dropout":0.2,"finetuneRateScale":0.1,"headEpochs":0,"headInit":"uniform","hidden":64,"lrDecay":0.5,"strategy":"finetune","training":{"batchSize":16,"epochs":10,"labelSmoothing":0.1,"learningRate":0.001,"metric":"accuracy","momentum":0.8,"nesterov":false,"optimizer":"sgd","schedule":"onecycle","seed":7,"warmupEpochs":0,"weightDecay":0.0001},"unfreeze":2}"#,
  ]

  func testStoredParams_reEncodeByteForByte() throws {
    let (runs, _) = try SweepSpec.parse(Self.spec, file: "stored.yaml").expand()
    let rows = try runs.map { try $0.canonicalJSON() }
    XCTAssertEqual(rows, Self.stored, rows.map { "\"\($0.replacingOccurrences(of: "\"", with: "\\\""))\"," }.joined(separator: "\n"))
    for params in Self.stored {
      let decoded = try JSONDecoder().decode(RunSpec.self, from: Data(params.utf8))
      XCTAssertEqual(try decoded.canonicalJSON(), params, "decoded and encoded again")
    }
  }

  /// A value other than the default for every key of the table (a key added to the table
  /// without one here fails the test below).
  static let samples: [Hyperparameter: ParameterValue] = [
    .backbone: .text("resnet18"), .strategy: .text("finetune"), .epochs: .number(3), .batchSize: .number(8), .lr: .number(0.02),
    .optimizer: .text("sgd"), .momentum: .number(0.5), .nesterov: .text("true"), .weightDecay: .number(0.01),
    .schedule: .text("step"), .warmupEpochs: .number(2), .labelSmoothing: .number(0.1), .classWeight: .text("balanced"),
    .patience: .number(4), .seed: .number(11), .augment: .text("strong"), .imageSize: .number(96), .head: .text("ovr"),
    .objective: .text("ovr"), .hidden: .number(32), .dropout: .number(0.25), .headInit: .text("uniform"),
    .featureStage: .text("layer3"), .augmentCopies: .number(3), .headEpochs: .number(2), .unfreeze: .number(2),
    .lrDecay: .number(0.5), .finetuneOptimizer: .text("adam"), .finetuneMomentum: .number(0.7), .finetuneNesterov: .text("true"),
    .finetuneRateScale: .number(0.2), .mixup: .number(0.4), .cutmix: .number(1), .mixProb: .number(0.5), .tta: .text("flip"), .ema: .number(0.999), .swaEpochs: .number(3),
  ]

  /// Every key of the table belongs to a run's identity: set away from its default, it
  /// changes the stored parameters (so two runs differing only in it are two runs), and
  /// the stored parameters give it back.
  func testEveryKeyOfTheTable_isPartOfTheStoredIdentity() throws {
    for key in Hyperparameter.allCases {
      let sample = try XCTUnwrap(Self.samples[key], "no sample value for \(key.rawValue)")
      let start = key == .backbone || key == .strategy
        ? RunSpec(backbone: .efficientNetLite0, strategy: .features) : RunSpec(backbone: .resnet18, strategy: .finetune)
      var spec = start
      try key.apply(sample, to: &spec)
      XCTAssertNotEqual(try spec.canonicalJSON(), try start.canonicalJSON(), "\(key.rawValue) does not change the stored parameters")
      let decoded = try JSONDecoder().decode(RunSpec.self, from: Data(try spec.canonicalJSON().utf8))
      XCTAssertEqual(key.value(in: decoded), key.value(in: spec), "\(key.rawValue) does not survive storing")
    }
  }
}
