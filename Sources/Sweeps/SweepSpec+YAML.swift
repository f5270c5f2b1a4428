import Datasets
import Training
import Yams

extension SweepSpec {
  /// The spec as the YAML a user would write, which ``parse(_:file:)`` reads back to the
  /// same spec: what the store keeps as the text of a sweep built in code (the demo's).
  /// Yams chooses each scalar's quoting, so any path or name survives the round trip.
  public func yaml() throws -> String {
    var pairs: [(Node, Node)] = [("name", text(name)), ("dataset", datasetNode), ("metric", text(metric.rawValue))]
    let gridNodes = grids.filter { !$0.isEmpty }.map { grid in mapping(grid.map { ($0.0.rawValue, Node($0.1.map(value))) }) }
    if gridNodes.count == 1 { pairs.append(("grid", gridNodes[0])) } else if !gridNodes.isEmpty { pairs.append(("grid", Node(gridNodes))) }
    if randomDraws > 0 {
      pairs.append(("random", mapping([("n", Node(String(randomDraws)))] + random.map { ($0.0.rawValue, distribution($0.1)) })))
    }
    if !fixed.isEmpty { pairs.append(("fixed", mapping(fixed.map { ($0.0.rawValue, value($0.1)) }))) }
    let budget = [maxRuns.map { ("max_runs", Node(String($0))) }, maxMinutes.map { ("max_minutes", Node(String($0))) }].compactMap { $0 }
    if !budget.isEmpty { pairs.append(("budget", mapping(budget))) }
    if let pruneGrace { pairs.append(("prune", mapping([("grace", Node(String(pruneGrace)))]))) }
    if let cv = crossValidation {
      let group = cv.groupColumn.map { [("group_column", text($0))] } ?? []
      pairs.append(("cv", mapping([("folds", Node(String(cv.folds))), ("seed", Node(String(cv.seed)))] + group)))
    }
    return try Yams.serialize(node: Node(pairs))
  }

  private var datasetNode: Node {
    var pairs: [(String, Node)] = [("adapter", text(dataset.adapter.rawValue)), ("root", text(dataset.root))]
    if let name = dataset.name { pairs.append(("name", text(name))) }
    pairs += dataset.options.sorted { $0.key < $1.key }.map { ($0.key, text($0.value)) }
    var split: [(String, Node)]
    switch dataset.split {
    case .preset(let preset): split = [("preset", text(preset))]
    case .fractions(.fractions(let train, let validation, let test)):
      split = [("train", Node(String(train))), ("val", Node(String(validation))), ("test", Node(String(test)))]
    case .fractions(.perClass):
      split = []  // the spec reader makes fractions or presets only
    }
    split.append(("seed", Node(String(dataset.seed))))
    pairs.append(("split", mapping(split)))
    return mapping(pairs)
  }

  private func distribution(_ distribution: Distribution) -> Node {
    switch distribution {
    case let .uniform(low, high): return mapping([("uniform", Node([Node(String(low)), Node(String(high))]))])
    case let .logUniform(low, high): return mapping([("log_uniform", Node([Node(String(low)), Node(String(high))]))])
    case .choice(let values): return mapping([("choice", Node(values.map(value)))])
    }
  }

  /// A value as the spec reader takes it back: numbers plain, text quoted when it would
  /// otherwise read as a number.
  private func value(_ value: ParameterValue) -> Node {
    switch value {
    case .number: return Node(value.description)
    case .text(let string): return text(string)
    }
  }

  private func text(_ string: String) -> Node {
    Node(string, .implicit, Double(string) == nil && !["true", "false", "null", "~", ""].contains(string) ? .any : .doubleQuoted)
  }

  private func mapping(_ pairs: [(String, Node)]) -> Node {
    Node(pairs.map { (Node($0.0), $0.1) })
  }
}
