import Backbones
import Engine
import EngineTestSupport
import Foundation
import XCTest

final class BackboneTests: XCTestCase {
  /// Parameter counts of the published architectures, as torchvision (and the Lite0
  /// checkpoint) count them.
  func testPublishedArchitectures_haveTheReferenceParameterCounts() {
    let expected: [(BackboneName, Int)] = [
      (.resnet18, 11_689_512), (.resnet34, 21_797_672), (.resnet50, 25_557_032),
      (.mobilenetV2, 3_504_872), (.efficientNetLite0, 4_652_008),
      (.smallCNN, 896 + 9_248 + 18_496 + 17 * 17 * 64 * 64 + 64 + 64 * 2 + 2),
    ]
    withEvery("backbone", in: expected) { name, count in
      XCTAssertEqual(Backbone(name, classes: name == .smallCNN ? 2 : 1000).network.parameterCount, count)
    }
  }

  func testOutputShapes_at224AndAtASmallerInput() throws {
    var rng = SeededGenerator(seed: 1)
    let image = Tensor.randomUniform(shape: [1, 224, 224, 3], bound: 1, rng: &rng)
    let backbone = Backbone(.resnet18)
    backbone.setTraining(false)
    XCTAssertEqual(try backbone.network(image).shape, [1, 1000])
    XCTAssertEqual(try backbone.features(image).shape, [1, 512])
    let twin = PyTorchTwinTests.twin(.vgg16)  // adaptive pooling takes any size
    twin.setTraining(false)
    XCTAssertEqual(try twin.network(Tensor(shape: [2, 40, 40, 3])).shape, [2, 10])
    XCTAssertEqual(try twin.features(Tensor(shape: [2, 40, 40, 3])).shape, [2, 16])
  }

  /// Bottleneck activations after a named stage: that stage's whole output, flattened; the
  /// last stage gives the pooled features; an unknown stage names the known ones.
  func testActivationsAfterAStage_areItsFlattenedOutput() throws {
    let backbone = Backbone(.resnet18)
    backbone.setTraining(false)
    let image = Tensor(shape: [2, 64, 64, 3], repeating: 0.5)
    XCTAssertEqual(try backbone.activations(image, after: "layer3").shape, [2, 4 * 4 * 256], "stride 16, after layer3's last block")
    XCTAssertEqual(try backbone.activations(image, after: "layer4").scalars, try backbone.features(image).scalars)
    XCTAssertThrowsError(try backbone.activations(image, after: "layer9")) {
      XCTAssertEqual("\($0)", "resnet18 has no stage layer9; its stages are stem, layer1, layer2, layer3, layer4")
    }
  }

  /// Discriminative rates: the classifier at the full rate, each stage below at half the
  /// rate of the one above; an SGD step moves a stage's weights by its own rate.
  func testDiscriminativeRates_halveStageByStage() throws {
    let backbone = Backbone(.resnet18)
    backbone.setDiscriminativeRates(decay: 0.5)
    let scales = Dictionary(backbone.network.namedParameters().map { ($0.name, $0.parameter.learningRateScale) }) { a, _ in a }
    XCTAssertEqual(scales["fc.weight"], 1)
    XCTAssertEqual(scales["layer4.1.conv2.weight"], 0.5)
    XCTAssertEqual(scales["layer3.0.conv1.weight"], 0.25)
    XCTAssertEqual(scales["layer1.0.bn1.weight"], 0.0625)
    XCTAssertEqual(scales["conv1.weight"], 0.03125)
    let parameter = backbone.network.namedParameters().first { $0.name == "layer3.0.conv1.weight" }!.parameter
    let before = parameter.value.scalars[0]
    parameter.gradient = Tensor(shape: parameter.value.shape, repeating: 1)
    SGD([parameter], learningRate: 0.1).step()
    XCTAssertEqual(parameter.value.scalars[0], before - 0.1 * 0.25, accuracy: 1e-7)
  }

  func testReplaceClassifier_keepsTheTrunkAndChangesTheClassCount() throws {
    try withEvery("backbone", in: PyTorchTwinTests.twinned) { name in
      let backbone = PyTorchTwinTests.twin(name)
      try backbone.loadPretrained(Checkpoint(contentsOf: try PyTorchTwinTests.url("\(name.rawValue).pth")))
      backbone.replaceClassifier(classes: 3, seed: 9)
      XCTAssertEqual(backbone.classCount, 3)
      backbone.setTraining(false)
      let size = name == .smallCNN ? 32 : 64
      XCTAssertEqual(try backbone.network(PyTorchTwinTests.testImage(size: size)).shape, [1, 3])
      // A checkpoint with a 10-class head still loads into the trunk.
      try backbone.loadPretrained(Checkpoint(contentsOf: try PyTorchTwinTests.url("\(name.rawValue).pth")), includeClassifier: false)
      XCTAssertThrowsError(try backbone.loadPretrained(Checkpoint(contentsOf: try PyTorchTwinTests.url("\(name.rawValue).pth")))) {
        XCTAssertTrue("\($0)".contains(backbone.classifierPath), "\($0)")
      }
    }
  }

  func testFreeze_trainsOnlyTheTopStagesAndKeepsFrozenBatchNormInEvaluation() throws {
    let backbone = PyTorchTwinTests.twin(.resnet18)
    backbone.freeze(allBut: 1)
    let trainable = Set(backbone.network.trainableParameters.map { ObjectIdentifier($0) })
    for (name, parameter) in backbone.network.namedParameters() where parameter.kind == .weight {
      let shouldTrain = name.hasPrefix("layer4.") || name.hasPrefix("fc.")
      XCTAssertEqual(trainable.contains(ObjectIdentifier(parameter)), shouldTrain, name)
    }
    backbone.setTraining(true)
    XCTAssertFalse(try XCTUnwrap(backbone.network.descendant("layer3.1.bn2")).isTraining)
    XCTAssertTrue(try XCTUnwrap(backbone.network.descendant("layer4.1.bn2")).isTraining)
    // Running statistics of frozen stages stay put during a training-mode forward.
    let before = try XCTUnwrap(backbone.network.descendant("bn1") as? BatchNorm).runningMean.value
    _ = try backbone.network(PyTorchTwinTests.testImage(size: 64))
    XCTAssertEqual(try XCTUnwrap(backbone.network.descendant("bn1") as? BatchNorm).runningMean.value, before)
    backbone.freezeTrunk()
    XCTAssertEqual(backbone.network.trainableParameters.count, 2, "only fc.weight and fc.bias")
  }

  func testLoadingTheWrongBackbonesWeights_namesTheParameter() throws {
    let backbone = PyTorchTwinTests.twin(.resnet34)
    XCTAssertThrowsError(try backbone.loadPretrained(Checkpoint(contentsOf: try PyTorchTwinTests.url("resnet18.pth")))) {
      XCTAssertEqual("\($0)", "layer2.0.conv1.weight: expected [4, 4, 3, 3], got [8, 4, 3, 3]")
    }
  }

  func testPodiumSafetensors_roundTripWithoutConversion() throws {
    let backbone = PyTorchTwinTests.twin(.mobilenetV2)
    try backbone.loadPretrained(Checkpoint(contentsOf: try PyTorchTwinTests.url("mobilenet_v2.pth")))
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("podium-\(UUID().uuidString).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try backbone.network.save(to: url)
    let copy = PyTorchTwinTests.twin(.mobilenetV2)
    try copy.loadPretrained(Checkpoint(contentsOf: url))
    for ((name, a), (_, b)) in zip(backbone.network.namedParameters(), copy.network.namedParameters()) {
      XCTAssertEqual(a.value, b.value, name)
    }
  }
}
