import Datasets
import Foundation
import XCTest

final class CSVTableTests: XCTestCase {
  private func parse(_ text: String) throws -> CSVTable {
    try CSVTable(data: Data(text.utf8), path: "labels.csv")
  }

  func testQuotedFieldsWithCommasQuotesAndNewlines() throws {
    let table = try parse("path,label\n\"a,b.jpg\",cat\n\"say \"\"hi\"\".png\",\"multi\nline\"\nplain.jpg,dog\n")
    XCTAssertEqual(table.header, ["path", "label"])
    XCTAssertEqual(table.rows.map(\.fields), [["a,b.jpg", "cat"], ["say \"hi\".png", "multi\nline"], ["plain.jpg", "dog"]])
    XCTAssertEqual(table.rows.map(\.line), [2, 3, 5])
  }

  func testByteOrderMarkAndCRLF() throws {
    let table = try CSVTable(data: Data([0xEF, 0xBB, 0xBF]) + Data("id,label\r\n1,3\r\n2,8\r\n".utf8), path: "train.csv")
    XCTAssertEqual(table.header, ["id", "label"])
    XCTAssertEqual(table.rows.map(\.fields), [["1", "3"], ["2", "8"]])
  }

  func testWrongFieldCount_namesTheLine() {
    XCTAssertThrowsError(try parse("id,label\n1,2\n3,4,5\n")) {
      XCTAssertEqual("\($0)", "labels.csv line 3: expected 2 fields as in the header, found 3")
    }
  }

  func testMalformedQuoting_namesTheLine() {
    XCTAssertThrowsError(try parse("id,label\n1,2\n3,ab\"c\"d\n")) {
      XCTAssertEqual(($0 as? CSVError)?.line, 3, "\($0)")
      XCTAssertTrue("\($0)".contains("malformed CSV"), "\($0)")
    }
    XCTAssertThrowsError(try parse("id,label\n1,\"never closed\n")) {
      XCTAssertTrue("\($0)".hasPrefix("labels.csv line"), "\($0)")
    }
  }

  func testMissingColumn_listsTheColumns() throws {
    let table = try parse("file,class\na.jpg,x\n")
    XCTAssertThrowsError(try table.column("path", in: "labels.csv")) {
      XCTAssertEqual("\($0)", "labels.csv line 1: no column \"path\"; the columns are \"file\", \"class\"")
    }
    XCTAssertEqual(try table.column("class", in: "labels.csv"), 1)
  }

  func testEmptyFile_isAnError() {
    XCTAssertThrowsError(try parse("")) { XCTAssertEqual("\($0)", "labels.csv: empty file: no header row") }
  }
}
