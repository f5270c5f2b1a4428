import CCSV
import Engine
import Foundation

/// A CSV file read through libcsv: RFC 4180 quoting (commas, quotes and newlines inside
/// quoted fields), CRLF or LF line ends, and a UTF-8 byte-order mark are all handled.
///
/// The first record is the header. Every row remembers the line it starts on, so errors
/// name it: `labels.csv line 7: expected 2 fields, found 3`.
public struct CSVTable: Equatable {
  /// One data record and the 1-based line it starts on.
  public struct Row: Equatable {
    public var line: Int
    public var fields: [String]
  }

  public var header: [String]
  public var rows: [Row]

  /// Reads and parses a CSV file.
  ///
  /// - Throws: ``CSVError`` naming the file and line.
  public init(contentsOf url: URL) throws {
    let data: Data
    do { data = try FileContents.data(of: url) } catch {
      throw CSVError(path: url.path, line: nil, reason: FileManager.default.fileExists(atPath: url.path) ? "unreadable" : "no such file")
    }
    try self.init(data: data, path: url.path)
  }

  /// Parses CSV bytes; `path` only names them in errors.
  public init(data: Data, path: String) throws {
    var records = try CSVParser(path: path).parse([UInt8](data))
    guard !records.isEmpty else { throw CSVError(path: path, line: nil, reason: "empty file: no header row") }
    header = records.removeFirst().fields.map { $0.trimmingCharacters(in: .whitespaces) }
    rows = records
    if let width = rows.first(where: { $0.fields.count != header.count }) {
      throw CSVError(path: path, line: width.line,
                     reason: "expected \(header.count) fields as in the header, found \(width.fields.count)")
    }
  }

  /// The index of the column called `name`.
  ///
  /// - Throws: ``CSVError`` listing the columns the file has.
  public func column(_ name: String, in path: String) throws -> Int {
    guard let index = header.firstIndex(of: name) else {
      throw CSVError(path: path, line: 1, reason: "no column \"\(name)\"; the columns are \(header.map { "\"\($0)\"" }.joined(separator: ", "))")
    }
    return index
  }
}

/// A CSV file that cannot be used; one line naming the file and, where known, the line.
public struct CSVError: Error, CustomStringConvertible, Equatable {
  public var path: String
  public var line: Int?
  public var reason: String

  public init(path: String, line: Int?, reason: String) {
    (self.path, self.line, self.reason) = (path, line, reason)
  }

  public var description: String {
    line.map { "\(path) line \($0): \(reason)" } ?? "\(path): \(reason)"
  }
}

/// Feeds libcsv one physical line at a time so every record and error has a line number.
private final class CSVParser {
  let path: String
  var records: [CSVTable.Row] = []
  var fields: [String] = []
  var currentLine = 1
  var recordStart = 1

  init(path: String) { self.path = path }

  func parse(_ bytes: [UInt8]) throws -> [CSVTable.Row] {
    var parser = csv_parser()
    guard csv_init(&parser, UInt8(CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL)) == 0 else {
      throw CSVError(path: path, line: nil, reason: "cannot initialise libcsv")
    }
    defer { csv_free(&parser) }
    let body = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
    let context = Unmanaged.passUnretained(self).toOpaque()
    var start = 0
    while start < body.count {
      let end = (body[start...].firstIndex(of: 0x0A).map { $0 + 1 }) ?? body.count
      let parsed = body[start..<end].withUnsafeBufferPointer { chunk in
        csv_parse(&parser, chunk.baseAddress, chunk.count, fieldEnded, recordEnded, context)
      }
      guard parsed == end - start else { throw malformed(parser) }
      currentLine += 1
      start = end
    }
    guard csv_fini(&parser, fieldEnded, recordEnded, context) == 0 else { throw malformed(parser) }
    return records
  }

  private func malformed(_ parser: csv_parser) -> CSVError {
    var copy = parser
    let message = String(cString: csv_strerror(csv_error(&copy)))
    return CSVError(path: path, line: min(currentLine, max(recordStart, currentLine)), reason: "malformed CSV: \(message)")
  }
}

/// libcsv's field callback: appends a field to the current record.
private let fieldEnded: @convention(c) (UnsafeMutableRawPointer?, Int, UnsafeMutableRawPointer?) -> Void = { data, length, context in
  let parser = Unmanaged<CSVParser>.fromOpaque(context!).takeUnretainedValue()
  if parser.fields.isEmpty { parser.recordStart = parser.currentLine }
  let bytes = data.map { UnsafeRawBufferPointer(start: $0, count: length) } ?? UnsafeRawBufferPointer(start: nil, count: 0)
  parser.fields.append(String(decoding: bytes, as: UTF8.self))
}

/// libcsv's record callback: closes the current record.
private let recordEnded: @convention(c) (Int32, UnsafeMutableRawPointer?) -> Void = { _, context in
  let parser = Unmanaged<CSVParser>.fromOpaque(context!).takeUnretainedValue()
  parser.records.append(CSVTable.Row(line: parser.recordStart, fields: parser.fields))
  parser.fields.removeAll(keepingCapacity: true)
}
