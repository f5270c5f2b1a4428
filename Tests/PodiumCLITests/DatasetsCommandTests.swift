import DatasetTestSupport
import Foundation
import XCTest

/// `podium datasets list` and `inspect`, as a user runs them.
final class DatasetsCommandTests: XCTestCase {
  private let cli = PodiumRunner()

  func testInspectJSON_reportsClassesSkippedFilesAndDuplicates() throws {
    var fixtures = try DatasetFixtures()
    defer { fixtures.remove() }
    let root = try fixtures.naturalImages()
    let result = try cli.run(["datasets", "inspect", "natural-images", root.path, "--json"])
    XCTAssertEqual(result.status, 0, result.stderr)
    let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    XCTAssertEqual(object["adapter"] as? String, "natural-images")
    XCTAssertEqual(object["images"] as? Int, 10)
    let classes = try XCTUnwrap(object["classes"] as? [[String: Any]])
    XCTAssertEqual(classes.compactMap { $0["name"] as? String }, ["airplane", "car", "cat"])
    XCTAssertEqual(classes.compactMap { $0["count"] as? Int }, [4, 3, 3])
    let skipped = try XCTUnwrap(object["skipped"] as? [[String: String]])
    XCTAssertEqual(skipped.count, 7)
    XCTAssertTrue(skipped.allSatisfy { !($0["reason"] ?? "").isEmpty })
    XCTAssertEqual((object["duplicates"] as? [[String]])?.count, 1)
  }

  func testInspect_everyAdapterFixture_runsWithoutCrashing() throws {
    var fixtures = try DatasetFixtures()
    defer { fixtures.remove() }
    let natural = try fixtures.naturalImages()
    let layouts = [("natural-images", natural), ("caltech256", try fixtures.caltech256()),
                   ("dogs-vs-cats", try fixtures.dogsVsCats()), ("flickr8", try fixtures.flickr8()), ("csv", try fixtures.csv()),
                   ("image-folder", natural.appendingPathComponent("natural_images"))]
    for (adapter, root) in layouts {
      let result = try cli.run(["datasets", "inspect", adapter, root.path])
      XCTAssertEqual(result.status, 0, "\(adapter): \(result.stderr)")
      XCTAssertTrue(result.stdout.hasPrefix("\(adapter) at "), result.stdout)
    }
  }

  func testCSVPathEscapingTheRoot_isRefusedWithOneLine() throws {
    var fixtures = try DatasetFixtures()
    defer { fixtures.remove() }
    let root = try fixtures.csv()
    let result = try cli.run(["datasets", "inspect", "csv", root.path, "--option", "file=escape.csv"])
    XCTAssertEqual(result.status, 1)
    XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
    XCTAssertTrue(result.stderr.contains("line 3: path \"../../etc/passwd\" leaves the dataset root"), result.stderr)
  }

  func testList_namesEveryAdapter() throws {
    let result = try cli.run(["datasets", "list"])
    for adapter in ["caltech256", "natural-images", "dogs-vs-cats", "flickr8", "image-folder", "csv"] {
      XCTAssertTrue(result.stdout.contains(adapter), adapter)
    }
  }
}
