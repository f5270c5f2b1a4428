import ArgumentParser
import Datasets
import Foundation

extension Podium {
  /// `podium datasets list | inspect`.
  struct DatasetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "datasets", abstract: "List the dataset adapters and inspect a dataset on disk.",
      subcommands: [List.self, Inspect.self, Demo.self])

    /// `podium datasets list`.
    struct List: ParsableCommand {
      static let configuration = CommandConfiguration(abstract: "List the dataset adapters and their layouts.")

      func run() {
        for adapter in DatasetAdapter.allCases {
          let options = adapter.options.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
          print(adapter.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0) + adapter.summary
                + (options.isEmpty ? "" : " [defaults: \(options)]"))
        }
      }
    }

    /// `podium datasets inspect ADAPTER PATH`.
    struct Inspect: ParsableCommand {
      static let configuration = CommandConfiguration(
        abstract: "Read a dataset as its adapter does: classes, sizes, skipped and broken files, duplicates, presets.")

      @Argument(help: "The adapter (see `podium datasets list`).")
      var adapter: DatasetAdapter

      @Argument(help: "The dataset's root folder.")
      var path: String

      @Option(name: .customLong("option"), help: "An adapter option as key=value (repeatable), e.g. --option clutter=false.")
      var options: [String] = []

      @Flag(help: "One JSON object instead of a report.")
      var json = false

      func run() throws {
        let dataset = try adapter.load(root: URL(fileURLWithPath: path), options: try adapterOptions(options))
        let inspection = DatasetInspection(dataset)
        print(json ? try jsonLine(inspection) : report(inspection))
      }

      private func report(_ inspection: DatasetInspection) -> String {
        var lines = ["\(inspection.adapter) at \(inspection.root): \(inspection.images) images (\(inspection.unlabelled) unlabelled), \(inspection.classes.count) classes"]
        lines += inspection.classes.map { "  \(String($0.count).leftPadded(6))  \($0.name)" }
        let s = inspection.sizes
        lines.append("sizes: width \(s.minWidth)–\(s.maxWidth) (median \(s.medianWidth)), height \(s.minHeight)–\(s.maxHeight) (median \(s.medianHeight))")
        lines.append("skipped: \(inspection.skipped.count)")
        lines += inspection.skipped.map { "  \($0.path): \($0.reason)" }
        lines.append("exact duplicates: \(inspection.duplicates.count)")
        lines += inspection.duplicates.map { "  " + $0.joined(separator: " = ") }
        lines.append("split presets: \(inspection.presets.joined(separator: ", "))")
        return lines.joined(separator: "\n")
      }
    }
  }
}

extension Podium.DatasetsCommand {
  /// `podium datasets demo PATH`: writes the embedded demo set.
  struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Write the generated 8-class demo dataset (Natural Images layout, 80 images per class, 80 unlabelled with answers.csv).")

    @Argument(help: "Folder to write (created if needed).") var path: String
    @Option(help: "Labelled images per class.") var imagesPerClass = 80
    @Option(help: "Unlabelled test images per class (with answers.csv).") var testImagesPerClass = 10
    @Option(help: "Image side in pixels.") var size = 64

    func validate() throws {
      guard imagesPerClass >= 1, testImagesPerClass >= 0, size >= 16 else {
        throw ValidationError("--images-per-class must be ≥ 1, --test-images-per-class ≥ 0 and --size ≥ 16")
      }
    }

    func run() throws {
      try DemoDataset(imagesPerClass: imagesPerClass, testImagesPerClass: testImagesPerClass, size: size).write(to: URL(fileURLWithPath: path))
      print("demo dataset written to \(path): read it with the natural-images adapter")
    }
  }
}

extension DatasetAdapter: ExpressibleByArgument {}

extension String {
  /// The string right-aligned in `width` columns.
  func leftPadded(_ width: Int) -> String {
    count >= width ? self : String(repeating: " ", count: width - count) + self
  }
}
