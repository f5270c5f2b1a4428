import Backbones
import Engine
import EngineTestSupport
import Foundation
import XCTest

/// Every backbone against its PyTorch twin: the same architecture at reduced width, saved by
/// `scripts/reference/make_backbone_fixtures.py` in both `.pth` formats with the logits of a
/// fixed input. Loading either file must reproduce those logits.
final class PyTorchTwinTests: XCTestCase {
  /// The backbones with a reduced twin: all but Lite1 and Lite2, which are Lite0's network
  /// with more blocks and width, checked whole against PyTorch with their real weights
  /// (``RealWeightsTests``).
  static let twinned = BackboneName.allCases.filter { ![.efficientNetLite1, .efficientNetLite2].contains($0) }

  /// The reduced sizes the reference script builds (10 classes).
  static func twin(_ name: BackboneName) -> Backbone {
    var rng = SeededGenerator(seed: 0)
    let architecture: Architecture
    switch name {
    case .smallCNN: architecture = SmallCNN.make(inputSize: 32, classes: 10, rng: &rng)
    case .resnet18: architecture = ResNet.make(.resnet18, widths: [4, 8, 16, 16], classes: 10, rng: &rng)
    case .resnet34: architecture = ResNet.make(.resnet34, widths: [4, 4, 8, 8], classes: 10, rng: &rng)
    case .resnet50: architecture = ResNet.make(.resnet50, widths: [2, 4, 4, 8], classes: 10, rng: &rng)
    case .vgg16: architecture = VGG.make(batchNorm: false, widths: [4, 4, 8, 8, 8], hidden: 16, classes: 10, rng: &rng)
    case .vgg16BN: architecture = VGG.make(batchNorm: true, widths: [4, 4, 8, 8, 8], hidden: 16, classes: 10, rng: &rng)
    case .mobilenetV2: architecture = MobileNetV2.make(widthMultiplier: 0.1, lastChannel: 32, classes: 10, rng: &rng)
    case .efficientNetLite0: architecture = EfficientNetLite.make(width: 0.1, headWidth: 32, classes: 10, rng: &rng)
    case .efficientNetLite1, .efficientNetLite2: preconditionFailure("\(name.rawValue) has no reduced twin; see twinned")
    }
    return Backbone(name, architecture: architecture, preprocessing: name.preprocessing)
  }

  /// The script's fixed input, `x[c, h, w] = 0.8 sin(0.05 h w + 1.3 c) + 0.1 cos(0.7 h − 0.3 w)`, as NHWC.
  static func testImage(size: Int) -> Tensor {
    var values: [Float] = []
    for h in 0..<size {
      for w in 0..<size {
        for c in 0..<3 {
          let (hd, wd, cd) = (Double(h), Double(w), Double(c))
          values.append(Float(0.8 * sin(0.05 * hd * wd + 1.3 * cd) + 0.1 * cos(0.7 * hd - 0.3 * wd)))
        }
      }
    }
    return Tensor(shape: [1, size, size, 3], values: values)
  }

  func testEveryBackbone_matchesItsPyTorchTwin_fromBothFormats() throws {
    try withEvery("backbone", in: Self.twinned) { name in
      let reference = try Self.fixture(name)
      try withEvery("file", in: ["\(name.rawValue).pth", "\(name.rawValue)_legacy.pth"]) { file in
        let backbone = Self.twin(name)
        let checkpoint = try Checkpoint(contentsOf: try Self.url(file))
        try backbone.loadPretrained(checkpoint)
        backbone.setTraining(false)
        let image = Self.testImage(size: reference.size)
        let scale = Double(reference.logits.map(abs).max() ?? 1)
        // Recorded layer by layer, and without recording: folded batch norms, Winograd,
        // inverted bottlenecks and ResNet's first layers run band by band.
        let logits = try backbone.network(image)
        assertClose(logits.scalars, reference.logits, relative: 0, absolute: 1e-3 * scale, "\(file) logits")
        let inferred = try GradientRecording.withoutGradients { try backbone.network(image) }
        assertClose(inferred.scalars, reference.logits, relative: 0, absolute: 1e-3 * scale, "\(file) logits, not recorded")
      }
    }
  }

  static func url(_ file: String) throws -> URL {
    try XCTUnwrap(Bundle.module.url(forResource: file, withExtension: nil, subdirectory: "Fixtures"), "missing fixture \(file)")
  }

  static func fixture(_ name: BackboneName) throws -> (size: Int, logits: [Float]) {
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: try url("\(name.rawValue).json")))
    let dictionary = try XCTUnwrap(object as? [String: Any])
    let size = try XCTUnwrap(dictionary["inputSize"] as? Int)
    let logits = try XCTUnwrap(dictionary["logits"] as? [NSNumber]).map(\.floatValue)
    return (size, logits)
  }
}
