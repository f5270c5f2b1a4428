import Engine
import EngineTestSupport
import Foundation
import XCTest

/// Reads the JSON fixtures written by `scripts/reference/make_engine_fixtures.py`.
enum Fixtures {
  /// The top-level object of `Fixtures/<name>.json`.
  static func load(_ name: String) throws -> [String: Any] {
    let url = try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"),
                            "fixture \(name).json is missing")
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
    return try XCTUnwrap(object as? [String: Any], "fixture \(name).json is not an object")
  }
}

extension Dictionary where Key == String, Value == Any {
  /// The tensor stored under `key` as `{"shape": [...], "values": [...]}`.
  func tensor(_ key: String) throws -> Tensor {
    try Fixtures.tensor(from: try XCTUnwrap(self[key], "fixture has no \(key)"))
  }

  /// The object stored under `key`.
  func object(_ key: String) throws -> [String: Any] {
    try XCTUnwrap(self[key] as? [String: Any], "fixture has no object \(key)")
  }

  /// The number stored under `key`.
  func number(_ key: String) throws -> Double {
    try XCTUnwrap((self[key] as? NSNumber)?.doubleValue, "fixture has no number \(key)")
  }
}

extension Fixtures {
  /// Decodes one `{"shape", "values"}` object.
  static func tensor(from value: Any) throws -> Tensor {
    let object = try XCTUnwrap(value as? [String: Any], "not a tensor object")
    let shape = try XCTUnwrap(object["shape"] as? [Int], "tensor without shape")
    let values = try XCTUnwrap(object["values"] as? [NSNumber], "tensor without values").map(\.floatValue)
    return Tensor(shape: shape, values: values)
  }
}

/// Runs `layer` on the fixture's `input`, compares the output with `output`, runs backward
/// from `dY`, and compares the input gradient with `dX` and each listed parameter's
/// gradient with the fixture tensor named beside it.
func assertMatchesFixture(
  _ layer: any Layer, _ fixture: [String: Any], gradients: [(Parameter, String)], _ name: String,
  file: StaticString = #filePath, line: UInt = #line
) throws {
  let tolerance = Tolerance.summation
  assertClose(try layer(try fixture.tensor("input")), try fixture.tensor("output"), scaled: tolerance, "\(name) output",
              file: file, line: line)
  let dX = try XCTUnwrap(layer.backward(try fixture.tensor("dY"), needsInputGradient: true), file: file, line: line)
  assertClose(dX, try fixture.tensor("dX"), scaled: tolerance, "\(name) dX", file: file, line: line)
  for (parameter, key) in gradients {
    assertClose(parameter.gradient, try fixture.tensor(key), scaled: tolerance, "\(name) \(key)", file: file, line: line)
  }
}
