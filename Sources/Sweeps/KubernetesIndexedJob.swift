import Foundation

/// A Kubernetes manifest that runs a sweep as an Indexed Job: a ConfigMap with the spec, and
/// a Job whose pod with completion index I runs `podium sweep worker --task I` (run I of the
/// plan) against its own shard on a mounted volume.
///
/// `podReplacementPolicy: Failed` makes Kubernetes start a replacement pod only once the old
/// one has fully terminated, so two pods never run one index (one run, one shard) at once;
/// `backoffLimitPerIndex` retries a failed index on its own, resuming from its checkpoint.
public struct KubernetesIndexedJob: Sendable {
  public var sweep: String
  public var specText: String
  public var runs: Int
  public var image: String
  /// The PersistentVolumeClaim holding the work folder (and, usually, the dataset).
  public var volumeClaim: String
  /// Where the volume is mounted in the pods; the work folder is `<mount>/runs`.
  public var mountPath: String
  public var parallelism: Int
  public var cpusPerPod: Int
  /// Retries per index (its attempts, with the first: this plus one).
  public var backoffLimitPerIndex: Int
  public var leaseArguments: [String]

  public init(sweep: String, specText: String, runs: Int, image: String, volumeClaim: String, mountPath: String, parallelism: Int,
              cpusPerPod: Int, backoffLimitPerIndex: Int, leaseArguments: [String]) {
    (self.sweep, self.specText, self.runs, self.image, self.volumeClaim) = (sweep, specText, runs, image, volumeClaim)
    (self.mountPath, self.parallelism, self.cpusPerPod) = (mountPath, parallelism, cpusPerPod)
    (self.backoffLimitPerIndex, self.leaseArguments) = (backoffLimitPerIndex, leaseArguments)
  }

  /// The sweep's name as a DNS label (Kubernetes object names): lower case, digits and `-`.
  public var objectName: String {
    let lowered = sweep.lowercased().map { $0.isLetter && $0.isASCII || $0.isNumber && $0.isASCII ? $0 : "-" }
    let trimmed = String(lowered).trimmingCharacters(in: CharacterSet(charactersIn: "-"))
    return "podium-" + String((trimmed.isEmpty ? "sweep" : trimmed).prefix(40))
  }

  /// The work folder inside the pods.
  public var work: String { mountPath + "/runs" }

  /// The manifest (a ConfigMap and a Job, as one YAML stream).
  public var text: String {
    let command = ["podium", "sweep", "worker", "/etc/podium/spec.yaml", "--work", work, "--task", "$(JOB_COMPLETION_INDEX)"] + leaseArguments
    return """
      # Written by `podium sweep k8s` for sweep \(sweep): pod I runs run I of the plan into its own
      # shard, \(work)/\(sweep)/shards/task-I.sqlite, on the volume \(volumeClaim).
      # Apply with `kubectl apply -f`; then `podium sweep merge --db DB --shards <volume>/runs/\(sweep)/shards`.
      apiVersion: v1
      kind: ConfigMap
      metadata:
        name: \(objectName)-spec
      data:
        spec.yaml: \(Self.quoted(specText))
      ---
      apiVersion: batch/v1
      kind: Job
      metadata:
        name: \(objectName)
        labels:
          app.kubernetes.io/name: podium
      spec:
        completionMode: Indexed
        completions: \(runs)
        parallelism: \(parallelism)
        backoffLimitPerIndex: \(backoffLimitPerIndex)
        maxFailedIndexes: \(runs)
        podReplacementPolicy: Failed
        template:
          metadata:
            labels:
              app.kubernetes.io/name: podium
          spec:
            restartPolicy: Never
            containers:
              - name: worker
                image: \(Self.quoted(image))
                command: [\(command.map(Self.quoted).joined(separator: ", "))]
                env:
                  - name: JOB_COMPLETION_INDEX
                    valueFrom:
                      fieldRef:
                        fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']"
                  - name: PODIUM_JOB_NAME
                    valueFrom:
                      fieldRef:
                        fieldPath: "metadata.labels['job-name']"
                  - name: PODIUM_THREADS
                    value: "\(cpusPerPod)"
                resources:
                  requests:
                    cpu: "\(cpusPerPod)"
                volumeMounts:
                  - name: work
                    mountPath: \(Self.quoted(mountPath))
                  - name: spec
                    mountPath: /etc/podium
                    readOnly: true
            volumes:
              - name: work
                persistentVolumeClaim:
                  claimName: \(Self.quoted(volumeClaim))
              - name: spec
                configMap:
                  name: \(objectName)-spec

      """
  }

  /// A YAML double-quoted scalar (JSON's string syntax is valid YAML).
  static func quoted(_ text: String) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .withoutEscapingSlashes
    let data = (try? encoder.encode(text)) ?? Data("\"\"".utf8)
    return String(decoding: data, as: UTF8.self)
  }
}
