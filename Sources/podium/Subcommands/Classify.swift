import ArgumentParser
import Backbones
import Foundation
import Training

extension Podium {
  /// `podium classify`: top-K ImageNet classes of photos with a pretrained backbone.
  struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Print the top ImageNet classes of images with a pretrained backbone.")

    @Option(help: "Backbone: \(BackboneName.allCases.filter(\.hasPretrainedWeights).map(\.rawValue).joined(separator: ", ")).")
    var backbone: BackboneName

    @Option(help: "Weights file (default: found as `podium weights list` shows).")
    var weights: String?

    @Option(help: "Number of classes to print per image.")
    var topk = 5

    @Flag(help: "One JSON object per image and line.")
    var json = false

    @Argument(help: "JPEG or PNG files.")
    var images: [String]

    func validate() throws {
      guard backbone.hasPretrainedWeights else { throw ValidationError("\(backbone.rawValue) has no pretrained ImageNet weights") }
      guard (1...1000).contains(topk) else { throw ValidationError("--topk must be between 1 and 1000, got \(topk)") }
    }

    func run() throws {
      let locator = WeightLocator(explicitFile: weights.map { URL(fileURLWithPath: $0) })
      guard let weightsFile = locator.locate(backbone) else { throw MissingWeightsError(backbone: backbone, locator: locator) }
      let classifier = try ImageClassifier(backbone, weights: weightsFile)
      var failed = false
      for path in images {
        do {
          let predictions = try classifier.classify(URL(fileURLWithPath: path), top: topk)
          print(json ? try jsonLine(ClassifiedImage(image: path, top: predictions)) : table(path, predictions))
        } catch {
          printToStandardError("\(error)")  // one bad image never stops the others
          failed = true
        }
      }
      if failed { throw ExitCode.failure }
    }

    /// `{"image": ..., "top": [{"index", "name", "prob"}, ...]}`.
    struct ClassifiedImage: Encodable {
      var image: String
      var top: [ImageClassifier.Prediction]
    }

    private func table(_ path: String, _ predictions: [ImageClassifier.Prediction]) -> String {
      ([path] + predictions.map { String(format: "  %4d  %6.2f%%  %@", $0.index, $0.prob * 100, $0.name) })
        .joined(separator: "\n")
    }
  }
}

extension BackboneName: ExpressibleByArgument {}
