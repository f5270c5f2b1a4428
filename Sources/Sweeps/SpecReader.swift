import Datasets
import Foundation
import Training
import Yams

/// Walks a composed YAML tree into a ``SweepSpec``, checking every key and value and
/// naming the line of anything wrong.
struct SpecReader {
  let file: String

  /// The keys of `dataset:` besides the adapter's own options.
  static let datasetKeys: Set<String> = ["adapter", "root", "name", "split"]

  func spec(_ root: Node) throws -> SweepSpec {
    let top = try mapping(root, "the spec", allowed: ["name", "dataset", "metric", "grid", "random", "fixed", "budget", "prune", "cv"])
    guard let name = top["name"]?.string, !name.isEmpty else { throw error(root, "missing name") }
    guard let datasetNode = top["dataset"] else { throw error(root, "missing dataset") }
    var spec = SweepSpec(name: name, dataset: try dataset(datasetNode))
    if let metric = top["metric"] {
      guard let value = metric.string.flatMap(MetricName.init(rawValue:)) else {
        throw error(metric, "metric must be one of \(MetricName.allCases.map(\.rawValue).joined(separator: ", "))")
      }
      spec.metric = value
    }
    if let grid = top["grid"] {
      if case .sequence(let grids) = grid {
        guard !grids.isEmpty else { throw error(grid, "grid must be a mapping or a non-empty list of mappings") }
        spec.grids = try grids.map(self.grid)
      } else {
        spec.grids = [try self.grid(grid)]
      }
    }
    if let random = top["random"] { (spec.randomDraws, spec.random) = try self.random(random) }
    if let fixed = top["fixed"] { spec.fixed = try self.fixed(fixed) }
    if let budget = top["budget"] {
      let fields = try mapping(budget, "budget", allowed: ["max_runs", "max_minutes"])
      spec.maxRuns = try fields["max_runs"].map { try positiveInt($0, "max_runs") }
      spec.maxMinutes = try fields["max_minutes"].map { try positiveNumber($0, "max_minutes") }
    }
    if let prune = top["prune"] {
      let fields = try mapping(prune, "prune", allowed: ["grace"])
      spec.pruneGrace = try fields["grace"].map { try positiveInt($0, "grace") } ?? 1
    }
    if let cv = top["cv"] { spec.crossValidation = try crossValidation(cv) }
    return spec
  }

  private func crossValidation(_ node: Node) throws -> CrossValidation {
    let fields = try mapping(node, "cv", allowed: ["folds", "seed", "group_column"])
    guard let folds = fields["folds"] else { throw error(node, "cv needs folds (the number of folds, e.g. 5)") }
    let count = try positiveInt(folds, "folds")
    guard (2...CrossValidation.maxFolds).contains(count) else {
      throw error(folds, "cv folds must be between 2 and \(CrossValidation.maxFolds), got \(count)")
    }
    var cv = CrossValidation(folds: count, seed: UInt64(try fields["seed"].map { try nonNegativeInt($0, "seed") } ?? 0))
    if let group = fields["group_column"] {
      guard let name = group.string, !name.isEmpty else { throw error(group, "cv group_column must be a column name") }
      cv.groupColumn = name
    }
    return cv
  }

  private func dataset(_ node: Node) throws -> SweepSpec.DatasetSection {
    let fields = try mapping(node, "dataset", allowed: Self.datasetKeys.union(DatasetAdapter.optionNames))
    guard let adapterName = fields["adapter"]?.string, let adapter = DatasetAdapter(rawValue: adapterName) else {
      throw error(fields["adapter"] ?? node, "dataset adapter must be one of \(DatasetAdapter.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    guard let root = fields["root"]?.string else { throw error(node, "dataset needs a root") }
    var options: [String: String] = [:]
    for key in adapter.options.keys { if let value = fields[key] { options[key] = try scalar(value, key).description } }
    if let stray = fields.keys.first(where: { !Self.datasetKeys.contains($0) && adapter.options[$0] == nil }) {
      throw error(fields[stray]!, "dataset key \(stray) is not an option of \(adapter.rawValue)")
    }
    var section = SweepSpec.DatasetSection(adapter: adapter, root: root, name: try fields["name"].map { try scalar($0, "name").description },
                                           options: options, split: .preset("default"), seed: 0)
    if let split = fields["split"] {
      let parts = try mapping(split, "split", allowed: ["preset", "train", "val", "validation", "test", "seed"])
      section.seed = UInt64(try parts["seed"].map { try nonNegativeInt($0, "seed") } ?? 0)
      if let preset = parts["preset"] {
        guard let name = preset.string else { throw error(preset, "split preset must be a name") }
        section.split = .preset(name)
      } else {
        let train = try parts["train"].map { try fraction($0, "train") } ?? 0.7
        let validation = try (parts["val"] ?? parts["validation"]).map { try fraction($0, "val") } ?? 0
        let test = try parts["test"].map { try fraction($0, "test") } ?? 0
        let fractions = SplitSpec.fractions(train: train, validation: validation, test: test)
        do { try fractions.validate() } catch { throw self.error(split, "\(error)") }
        section.split = .fractions(fractions)
      }
    }
    return section
  }

  private func grid(_ node: Node) throws -> [(Hyperparameter, [ParameterValue])] {
    try entries(node, "grid").map { key, valueNode in
      guard case .sequence(let sequence) = valueNode, !sequence.isEmpty else { throw error(valueNode, "grid \(key.rawValue) must be a non-empty list") }
      let values = try sequence.map { try scalar($0, key.rawValue) }
      try check(key, values, valueNode)
      return (key, values)
    }
  }

  private func random(_ node: Node) throws -> (Int, [(Hyperparameter, SweepSpec.Distribution)]) {
    guard case .mapping(let map) = node, let count = map["n"] else { throw error(node, "random needs n (the number of draws)") }
    let n = try positiveInt(count, "n")
    var distributions: [(Hyperparameter, SweepSpec.Distribution)] = []
    for (keyNode, valueNode) in map where keyNode.string != "n" {
      let key = try hyperparameter(keyNode)
      let spec = try mapping(valueNode, "random \(key.rawValue)", allowed: ["uniform", "log_uniform", "choice"])
      guard spec.count == 1, let (kind, arguments) = spec.first, case .sequence(let list) = arguments else {
        throw error(valueNode, "random \(key.rawValue) needs one of uniform: [low, high], log_uniform: [low, high], choice: [...]")
      }
      let values = try list.map { try scalar($0, key.rawValue) }
      if kind == "choice" {
        try check(key, values, valueNode)
        distributions.append((key, .choice(values)))
        continue
      }
      guard values.count == 2, case .number(let low) = values[0], case .number(let high) = values[1], low < high, kind == "uniform" || low > 0 else {
        throw error(valueNode, "random \(key.rawValue): \(kind) needs [low, high] with low < high\(kind == "log_uniform" ? " and low > 0" : "")")
      }
      distributions.append((key, kind == "uniform" ? .uniform(low, high) : .logUniform(low, high)))
    }
    return (n, distributions)
  }

  private func fixed(_ node: Node) throws -> [(Hyperparameter, ParameterValue)] {
    try entries(node, "fixed").map { key, valueNode in
      let value = try scalar(valueNode, key.rawValue)
      try check(key, [value], valueNode)
      return (key, value)
    }
  }

  // MARK: - Helpers

  /// Applies each value to a scratch spec so a bad value fails here, with its line.
  private func check(_ key: Hyperparameter, _ values: [ParameterValue], _ node: Node) throws {
    var probe = RunSpec(backbone: .smallCNN, strategy: .scratch)
    for value in values {
      do { try key.apply(value, to: &probe) } catch { throw self.error(node, "\(error)") }
    }
  }

  private func entries(_ node: Node, _ what: String) throws -> [(Hyperparameter, Node)] {
    guard case .mapping(let map) = node else { throw error(node, "\(what) must be a mapping of hyperparameters") }
    return try map.map { (try hyperparameter($0.key), $0.value) }
  }

  private func hyperparameter(_ node: Node) throws -> Hyperparameter {
    guard let name = node.string, let key = Hyperparameter(rawValue: name) else {
      throw error(node, "unknown hyperparameter \(node.string ?? "?"); known: \(Hyperparameter.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return key
  }

  private func mapping(_ node: Node, _ what: String, allowed: Set<String>) throws -> [String: Node] {
    guard case .mapping(let map) = node else { throw error(node, "\(what) must be a mapping") }
    var fields: [String: Node] = [:]
    for (key, value) in map {
      guard let name = key.string, allowed.contains(name) else {
        throw error(key, "unknown key \(key.string ?? "?") in \(what); allowed: \(allowed.sorted().joined(separator: ", "))")
      }
      fields[name] = value
    }
    return fields
  }

  private func scalar(_ node: Node, _ key: String) throws -> ParameterValue {
    guard case .scalar(let scalar) = node else { throw error(node, "\(key) must be a single value") }
    return scalar.style == .plain ? ParameterValue(parsing: scalar.string) : .text(scalar.string)
  }

  private func positiveInt(_ node: Node, _ key: String) throws -> Int {
    guard let value = node.int, value > 0 else { throw error(node, "\(key) must be a positive integer") }
    return value
  }

  private func nonNegativeInt(_ node: Node, _ key: String) throws -> Int {
    guard let value = node.int, value >= 0 else { throw error(node, "\(key) must be a non-negative integer") }
    return value
  }

  private func positiveNumber(_ node: Node, _ key: String) throws -> Double {
    guard let value = node.float, value > 0 else { throw error(node, "\(key) must be a positive number") }
    return value
  }

  private func fraction(_ node: Node, _ key: String) throws -> Double {
    guard let value = node.float, value >= 0, value <= 1 else { throw error(node, "split \(key) must be a fraction between 0 and 1") }
    return value
  }

  private func error(_ node: Node, _ message: String) -> SpecError {
    SpecError(file: file, line: node.mark?.line, message)
  }
}
