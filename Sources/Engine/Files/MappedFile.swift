import Foundation

/// A read-only, private memory mapping of a whole file.
///
/// Checkpoint readers parse headers in place and copy each tensor straight out of the
/// mapping; after a tensor is copied its pages are handed back to the kernel
/// (``release(_:)``), so loading a model never holds the whole file resident on top of
/// the model itself.
final class MappedFile {
  /// The file's bytes; valid until the object is freed.
  let bytes: UnsafeRawBufferPointer
  private let length: Int

  /// Maps the file at `path`.
  ///
  /// - Throws: ``CheckpointError`` naming the file when it cannot be opened or mapped.
  init(path: String) throws {
    let descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else {
      throw CheckpointError(path: path, reason: errno == ENOENT ? "no such file" : String(cString: strerror(errno)))
    }
    defer { close(descriptor) }
    var status = stat()
    guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
      throw CheckpointError(path: path, reason: "not a regular file")
    }
    length = Int(status.st_size)
    guard length > 0 else {
      bytes = UnsafeRawBufferPointer(start: nil, count: 0)
      return
    }
    guard let address = mmap(nil, length, PROT_READ, MAP_PRIVATE, descriptor, 0), address != MAP_FAILED else {
      throw CheckpointError(path: path, reason: "cannot map: \(String(cString: strerror(errno)))")
    }
    bytes = UnsafeRawBufferPointer(start: address, count: length)
  }

  /// Drops the resident pages wholly inside `range` (byte offsets); they are read again
  /// from the file if touched later.
  func release(_ range: Range<Int>) {
    guard let base = bytes.baseAddress, !range.isEmpty else { return }
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let start = (range.lowerBound + page - 1) / page * page, end = range.upperBound / page * page
    guard end > start else { return }
    madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_DONTNEED)
  }

  deinit {
    if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), length) }
  }
}
