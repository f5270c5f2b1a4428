import Foundation
import Imaging

/// Lists the image files under a folder, recognised by content, and everything else with a
/// reason: zero-byte files, non-image files, unsupported formats, macOS metadata.
enum ImageFiles {
  /// Files to skip silently-but-reported by name: macOS and Windows metadata.
  static func isJunk(_ name: String) -> Bool {
    name == ".DS_Store" || name == "Thumbs.db" || name.hasPrefix("._") || name == "__MACOSX"
  }

  /// The regular files directly inside `folder` (not recursing), sorted by name, split into
  /// usable images and skipped files. Paths are relative to `root`.
  static func scan(_ folder: URL, relativeTo root: URL) throws -> (images: [String], skipped: [Dataset.Skipped]) {
    let names: [String]
    do { names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() } catch {
      throw DatasetError(path: folder.path, reason: "cannot list the folder")
    }
    var images: [String] = [], skipped: [Dataset.Skipped] = []
    for name in names {
      let url = folder.appendingPathComponent(name)
      let relative = relativePath(url, to: root)
      if isJunk(name) {
        skipped.append(.init(path: relative, reason: "operating-system metadata"))
        continue
      }
      var isFolder: ObjCBool = false
      guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), !isFolder.boolValue else { continue }
      if let outside = outsideRoot(url, root) {
        skipped.append(.init(path: relative, reason: "a symbolic link to \(outside), outside the dataset root; refused"))
      } else if let reason = unusableReason(url) {
        skipped.append(.init(path: relative, reason: reason))
      } else {
        images.append(relative)
      }
    }
    return (images, skipped)
  }

  /// Where `url` really is when symbolic links (of the file or of a folder above it) take it
  /// out of `root`, as the CSV adapter refuses paths that leave it; nil inside the root.
  static func outsideRoot(_ url: URL, _ root: URL) -> String? {
    let resolved = url.standardizedFileURL.resolvingSymlinksInPath().path
    let base = root.standardizedFileURL.resolvingSymlinksInPath().path
    return resolved.hasPrefix(base + "/") ? nil : resolved
  }

  /// Why `url` is not a usable image judged from its first bytes, or nil when it is a JPEG or PNG.
  static func unusableReason(_ url: URL) -> String? {
    guard let handle = try? FileHandle(forReadingFrom: url) else { return "unreadable" }
    defer { try? handle.close() }
    let head = [UInt8]((try? handle.read(upToCount: 16)) ?? Data())
    if head.isEmpty { return "empty file" }
    switch ImageDecoder.format(of: head) {
    case .jpeg?, .png?: return nil
    case let other?: return "\(other.rawValue) images are not supported"
    case nil: return "not an image"
    }
  }

  /// The operating-system metadata entries (files or folders) directly inside `folder`.
  static func junk(in folder: URL, relativeTo root: URL) -> [Dataset.Skipped] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    return names.filter(isJunk).sorted().map {
      Dataset.Skipped(path: relativePath(folder.appendingPathComponent($0), to: root), reason: "operating-system metadata")
    }
  }

  /// The sub-folders of `folder`, sorted, without metadata folders.
  static func subfolders(_ folder: URL) throws -> [String] {
    let names: [String]
    do { names = try FileManager.default.contentsOfDirectory(atPath: folder.path) } catch {
      throw DatasetError(path: folder.path, reason: "no such folder")
    }
    return names.filter { name in
      var isFolder: ObjCBool = false
      return !isJunk(name) && FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path, isDirectory: &isFolder)
        && isFolder.boolValue
    }.sorted()
  }

  /// Unlabelled test images whose file name is their submission id (`test1/1234.jpg`),
  /// sorted by numeric id (`2` before `10`), then by name.
  static func unlabelledSamples(_ paths: [String]) -> [Dataset.Sample] {
    paths.map { Dataset.Sample(path: $0, label: nil, id: (($0 as NSString).lastPathComponent as NSString).deletingPathExtension) }
      .sorted { (Int($0.id) ?? .max, $0.id) < (Int($1.id) ?? .max, $1.id) }
  }

  /// `url`'s path relative to `root` (both standardised).
  static func relativePath(_ url: URL, to root: URL) -> String {
    let base = root.standardizedFileURL.path, path = url.standardizedFileURL.path
    return path.hasPrefix(base + "/") ? String(path.dropFirst(base.count + 1)) : path
  }
}
