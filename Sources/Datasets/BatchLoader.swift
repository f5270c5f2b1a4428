import Engine
import Foundation
import Imaging

/// One batch: NHWC images ready for the network and what they are.
public struct Batch {
  /// `[N, size, size, 3]`, normalised with the backbone's mean and std.
  public var images: Tensor
  /// Class indices; -1 for unlabelled images.
  public var labels: [Int]
  public var samples: [Dataset.Sample]
  /// Images of this batch that could not be read, with the reason (left out of `images`).
  public var failures: [Dataset.Skipped]

  public init(images: Tensor, labels: [Int], samples: [Dataset.Sample], failures: [Dataset.Skipped]) {
    (self.images, self.labels, self.samples, self.failures) = (images, labels, samples, failures)
  }
}

/// Turns image files into batches: decodes (JPEGs down-scaled in the DCT domain when much
/// larger than needed), resizes, augments and normalises in parallel, caches the decoded
/// images so later epochs decode nothing, and prefetches the next batches on a background
/// thread while the model computes.
///
/// Every random choice (epoch order, each image's augmentation) comes from a generator
/// derived from the seed, the epoch and the image's index, so a run is reproducible
/// whatever the thread timing.
public final class BatchLoader: @unchecked Sendable {
  public let dataset: Dataset
  public let samples: [Dataset.Sample]
  public let batchSize: Int
  public let preprocessing: Preprocessing
  public let augmentation: Augmentation
  public let seed: UInt64
  public let cache: ImageCache?
  /// Batches prepared ahead of the consumer.
  public var prefetch = 2
  /// Cache keys by sample index, computed once per loader (a later epoch stats no file).
  private var keys: [Int: String] = [:]
  private let keysLock = NSLock()

  public init(
    dataset: Dataset, samples: [Dataset.Sample], batchSize: Int, preprocessing: Preprocessing,
    augmentation: Augmentation = .none, seed: UInt64 = 0, cache: ImageCache? = ImageCache()
  ) {
    precondition(batchSize > 0, "batch size must be positive")
    (self.dataset, self.samples, self.batchSize, self.preprocessing) = (dataset, samples, batchSize, preprocessing)
    (self.augmentation, self.seed, self.cache) = (augmentation, seed, cache)
  }

  /// Number of batches per epoch.
  public var batchCount: Int { (samples.count + batchSize - 1) / batchSize }

  /// The batches of one epoch, shuffled when `shuffle` is true, prepared ahead of use.
  public func epoch(_ epoch: Int, shuffle: Bool) -> AnySequence<Batch> {
    let order = epochOrder(samples.count, seed: seed, epoch: epoch, shuffle: shuffle)
    let chunks = stride(from: 0, to: order.count, by: batchSize).map { Array(order[$0..<min($0 + batchSize, order.count)]) }
    let queue = PrefetchQueue<Batch>(capacity: prefetch)
    let thread = Thread { [self] in
      for chunk in chunks where !queue.isCancelled { queue.push(makeBatch(chunk, epoch: epoch)) }
      queue.finish()
    }
    thread.start()
    return AnySequence { PrefetchIterator(queue: queue) }
  }

  /// Decodes and prepares the samples at `indices` in parallel.
  public func makeBatch(_ indices: [Int], epoch: Int) -> Batch {
    let size = preprocessing.inputSize
    final class Slots: @unchecked Sendable { var images: [FloatImage?]; var errors: [String?]
      init(_ n: Int) { images = Array(repeating: nil, count: n); errors = Array(repeating: nil, count: n) } }
    let slots = Slots(indices.count)
    Parallel.forEachRange(indices.count) { range in
      for position in range {
        do { slots.images[position] = try self.prepare(indices[position], epoch: epoch) } catch {
          slots.errors[position] = (error as? DecodeError)?.detail ?? "\(error)"
        }
      }
    }
    var values: [Float] = [], labels: [Int] = [], kept: [Dataset.Sample] = [], failures: [Dataset.Skipped] = []
    values.reserveCapacity(indices.count * size * size * 3)
    for (position, index) in indices.enumerated() {
      let sample = samples[index]
      if let image = slots.images[position] {
        values += image.values
        labels.append(sample.label ?? -1)
        kept.append(sample)
      } else {
        failures.append(.init(path: sample.path, reason: slots.errors[position] ?? "unreadable"))
      }
    }
    return Batch(images: Tensor(shape: [kept.count, size, size, 3], values: values), labels: labels, samples: kept, failures: failures)
  }

  /// One sample: the cached (or freshly decoded) base image, augmented for training or
  /// cropped for evaluation, then normalised.
  func prepare(_ index: Int, epoch: Int) throws -> FloatImage {
    let base = try baseImage(index)
    let size = preprocessing.inputSize
    let view: FloatImage
    if augmentation.isIdentity {
      view = base.width == size && base.height == size ? FloatImage(base) : FloatImage(base).resized(width: size, height: size)
    } else {
      var rng = SeededGenerator(seed: seed ^ (UInt64(epoch) &* 0xD1B5_4A32_D192_ED03) ^ (UInt64(index) &* 0x9E37_79B9_7F4A_7C15))
      view = augmentation.apply(FloatImage(base), size: size, rng: &rng)
    }
    return view.normalized(mean: preprocessing.mean, std: preprocessing.std)
  }

  /// The image before augmentation: the evaluation crop when nothing is random, else the
  /// whole image with its shorter side at the preprocessing's resize size; rounded to 8
  /// bits whether cached or not, so epochs agree.
  func baseImage(_ index: Int) throws -> Image {
    let url = dataset.url(of: samples[index])
    let key = cacheKey(index, url)
    if let cached = cache?.image(key) { return cached }
    let bytes = [UInt8](try FileContents.data(of: url))
    let decoded = try ImageDecoder.decode(bytes, path: url.path, scaleDenominator: scaleDenominator(bytes))
    let image = FloatImage(decoded)
    let prepared = augmentation.isIdentity ? image.evaluationCrop(for: preprocessing) : image.resized(shorterSide: trainingSide)
    let rounded = prepared.rounded()
    cache?.store(rounded, key)
    return rounded
  }

  private func cacheKey(_ index: Int, _ url: URL) -> String {
    keysLock.lock()
    defer { keysLock.unlock() }
    if let key = keys[index] { return key }
    let variant = augmentation.isIdentity ? "eval-\(preprocessing)" : "train-\(trainingSide)"
    let key = ImageCache.key(for: url, variant: variant)
    keys[index] = key
    return key
  }

  /// The shorter side training images are kept at: the preprocessing's resize size (256
  /// for a 224 input), so random crops have room.
  var trainingSide: Int {
    if case .resizeThenCenterCrop(let resize) = preprocessing.crop { return max(resize, preprocessing.inputSize) }
    return preprocessing.inputSize * 8 / 7
  }

  /// The largest JPEG down-scaling (1/2, 1/4, 1/8) that keeps the shorter side at least
  /// the size needed, judged from the header.
  private func scaleDenominator(_ bytes: [UInt8]) -> Int {
    guard let (width, height) = ImageDecoder.dimensions(of: bytes), ImageDecoder.format(of: bytes) == .jpeg else { return 1 }
    let needed = augmentation.isIdentity ? preprocessing.inputSize * 8 / 7 : trainingSide
    return [8, 4, 2].first { min(width, height) / $0 >= needed } ?? 1
  }
}

/// The order of `count` items in `epoch`: shuffled by a generator derived from the seed and
/// the epoch, or `0..<count` when `shuffle` is false.
public func epochOrder(_ count: Int, seed: UInt64, epoch: Int, shuffle: Bool) -> [Int] {
  var order = Array(0..<count)
  if shuffle {
    var rng = SeededGenerator(seed: seed &+ 0x9E37_79B9 &* UInt64(epoch + 1))
    order.shuffle(using: &rng)
  }
  return order
}

/// A bounded queue between the prefetching thread and the consumer.
final class PrefetchQueue<Element>: @unchecked Sendable {
  private var items: [Element] = []
  private var finished = false
  private(set) var isCancelled = false
  private let capacity: Int
  private let condition = NSCondition()

  init(capacity: Int) { self.capacity = max(1, capacity) }

  /// Adds an element, waiting while the queue is full (returns at once when cancelled).
  func push(_ element: Element) {
    condition.lock()
    while items.count >= capacity && !isCancelled { condition.wait() }
    if !isCancelled { items.append(element) }
    condition.broadcast()
    condition.unlock()
  }

  /// The next element, waiting for the producer; nil once it finished and all were taken.
  func pop() -> Element? {
    condition.lock()
    defer { condition.unlock() }
    while items.isEmpty && !finished { condition.wait() }
    guard !items.isEmpty else { return nil }
    condition.broadcast()
    return items.removeFirst()
  }

  func finish() {
    condition.lock()
    finished = true
    condition.broadcast()
    condition.unlock()
  }

  /// Stops the producer (the consumer stopped early).
  func cancel() {
    condition.lock()
    isCancelled = true
    items.removeAll()
    condition.broadcast()
    condition.unlock()
  }
}

/// Iterates a prefetch queue; cancels the producer when dropped before the end.
final class PrefetchIterator<Element>: IteratorProtocol {
  private let queue: PrefetchQueue<Element>
  init(queue: PrefetchQueue<Element>) { self.queue = queue }
  func next() -> Element? { queue.pop() }
  deinit { queue.cancel() }
}
