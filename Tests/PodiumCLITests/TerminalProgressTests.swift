import Datasets
import Foundation
import XCTest

/// `podium train` on a terminal: the batch bar is redrawn in place and each epoch's row
/// replaces it whole, leaving no character of the bar behind (seen in tmux at 120 columns:
/// an `s` at column 80 of every epoch row). The output is captured on a pseudo-terminal
/// (`script`) and replayed on a small screen model.
final class TerminalProgressTests: XCTestCase {
  func testEpochRows_leaveNothingOfTheProgressBarOnScreen() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-tty-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    try DemoDataset(imagesPerClass: 6, testImagesPerClass: 0, size: 32).write(to: folder)
    let command = [PodiumRunner().executable.path, "train", "--dataset", "natural-images:\(folder.path)", "--split", "0.6,0.2,0.2",
                   "--backbone", "small_cnn", "--strategy", "scratch", "--image-size", "32", "--epochs", "3", "--batch-size", "4"]
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
    process.arguments = ["-qefc", command.map { "'\($0)'" }.joined(separator: " "), "/dev/null"]
    var environment = PodiumRunner.commandEnvironment
    (environment["TERM"], environment["COLUMNS"]) = ("xterm-256color", "120")
    process.environment = environment
    let output = Pipe()
    process.standardOutput = output
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let bytes = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    XCTAssertEqual(process.terminationStatus, 0, String(decoding: bytes, as: UTF8.self))
    let transcript = String(decoding: bytes, as: UTF8.self)
    XCTAssertTrue(transcript.contains("eta "), "the batch bar was drawn: \(transcript)")
    let rows = Self.screen(transcript).filter { $0.first == " " && $0.contains(".") }
    XCTAssertEqual(rows.count, 3, "\(Self.screen(transcript))")
    let row = try NSRegularExpression(pattern: #"^ +\d+ +\d+\.\d{4} +\d+\.\d{4} +\d+\.\d{4} +\d+\.\ds$"#)
    for line in rows {
      XCTAssertNotNil(row.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)), "a stray character after the row: \"\(line)\"")
    }
  }

  /// The lines a terminal shows after `text`: carriage return, line feed, "erase to the end
  /// of the line" (ESC [ K) and printable characters; other escape sequences are skipped.
  static func screen(_ text: String) -> [String] {
    var lines: [[Character]] = [[]], column = 0
    var characters = Array(text)[...]
    while let character = characters.popFirst() {
      switch character {
      case "\r": column = 0
      case "\n", "\r\n": lines.append([]); column = 0
      case "\u{1B}":
        guard characters.first == "[" else { continue }
        characters.removeFirst()
        var final: Character = " "
        while let next = characters.popFirst() {
          if next.isLetter || next == "~" { final = next; break }
        }
        if final == "K" { lines[lines.count - 1] = Array(lines[lines.count - 1].prefix(column)) }
      default:
        var line = lines[lines.count - 1]
        while line.count < column { line.append(" ") }
        if column < line.count { line[column] = character } else { line.append(character) }
        lines[lines.count - 1] = line
        column += 1
      }
    }
    return lines.map { String($0).replacingOccurrences(of: #"\s+$"#, with: "", options: .regularExpression) }
  }
}
