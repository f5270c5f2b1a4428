import Foundation
import Sweeps
import XCTest
import Yams

/// The Slurm array script and the Kubernetes Indexed Job, field by field (the real Slurm
/// runs the script in `SlurmClusterTests`; no Kubernetes cluster is reachable here).
final class SchedulerScriptTests: XCTestCase {
  private let layout = ShardLayout(work: "/shared/runs", sweep: "grid")

  private func script(tasks: [Int], maxParallel: Int? = 4) -> SlurmArrayScript {
    SlurmArrayScript(sweep: "grid", tasks: tasks, podium: "/opt/podium it's/podium", layout: layout, work: "/shared/runs",
                     maxParallel: maxParallel, cpusPerTask: 2, partition: "cpu", time: "01:00:00",
                     leaseArguments: ["--lease", "600.0"], workerStarts: 3)
  }

  func testTheArray_listsTheTasksAsRanges() {
    XCTAssertEqual(script(tasks: Array(0..<24)).arraySpec, "0-23%4")
    XCTAssertEqual(script(tasks: [7, 1, 4, 5, 6, 9], maxParallel: nil).arraySpec, "1,4-7,9")
  }

  func testTheSlurmScript_runsOneWorkerPerArrayTask_requeueable() {
    let text = script(tasks: Array(0..<24)).text
    let directives = text.split(separator: "\n").filter { $0.hasPrefix("#SBATCH ") }.map { String($0.dropFirst(8)) }
    XCTAssertEqual(directives, ["--job-name=podium-grid", "--array=0-23%4", "--requeue", "--cpus-per-task=2",
                                "--output=/shared/runs/grid/logs/task-%a.out", "--open-mode=append", "--partition=cpu", "--time=01:00:00"])
    XCTAssertTrue(text.hasPrefix("#!/bin/bash\n"))
    XCTAssertTrue(text.contains(#"'/opt/podium it'\''s/podium' 'sweep' 'worker' '/shared/runs/grid/spec.yaml' '--work' '/shared/runs' --task "$SLURM_ARRAY_TASK_ID" '--lease' '600.0' && exit 0"#),
                  text)
    XCTAssertTrue(text.contains("for start in $(seq 1 3); do"), text)
  }

  func testTheKubernetesManifest_isAnIndexedJobThatNeverRunsOneIndexTwice() throws {
    let spec = "name: grid\ndataset: {adapter: image-folder, root: /podium/data}\n"
    let job = KubernetesIndexedJob(sweep: "Grid_Sweep", specText: spec, runs: 24, image: "registry.example/podium:1", volumeClaim: "podium-work",
                                   mountPath: "/podium", parallelism: 6, cpusPerPod: 2, backoffLimitPerIndex: 2,
                                   leaseArguments: ["--lease", "600.0"])
    let documents = try Array(Yams.load_all(yaml: job.text)).compactMap { $0 as? [String: Any] }
    XCTAssertEqual(documents.count, 2)
    let configMap = documents[0], manifest = documents[1]
    XCTAssertEqual(configMap["kind"] as? String, "ConfigMap")
    XCTAssertEqual((configMap["data"] as? [String: String])?["spec.yaml"], spec)
    XCTAssertEqual(manifest["kind"] as? String, "Job")
    XCTAssertEqual((manifest["metadata"] as? [String: Any])?["name"] as? String, "podium-grid-sweep")
    let jobSpec = try XCTUnwrap(manifest["spec"] as? [String: Any])
    XCTAssertEqual(jobSpec["completionMode"] as? String, "Indexed")
    XCTAssertEqual(jobSpec["completions"] as? Int, 24)
    XCTAssertEqual(jobSpec["parallelism"] as? Int, 6)
    XCTAssertEqual(jobSpec["backoffLimitPerIndex"] as? Int, 2)
    XCTAssertEqual(jobSpec["podReplacementPolicy"] as? String, "Failed")
    let pod = try XCTUnwrap((jobSpec["template"] as? [String: Any])?["spec"] as? [String: Any])
    XCTAssertEqual(pod["restartPolicy"] as? String, "Never")
    let container = try XCTUnwrap((pod["containers"] as? [[String: Any]])?.first)
    XCTAssertEqual(container["image"] as? String, "registry.example/podium:1")
    XCTAssertEqual(container["command"] as? [String], ["podium", "sweep", "worker", "/etc/podium/spec.yaml", "--work", "/podium/runs",
                                                       "--task", "$(JOB_COMPLETION_INDEX)", "--lease", "600.0"])
    let environment = try XCTUnwrap(container["env"] as? [[String: Any]])
    let index = try XCTUnwrap(environment.first { $0["name"] as? String == "JOB_COMPLETION_INDEX" })
    XCTAssertEqual(((index["valueFrom"] as? [String: Any])?["fieldRef"] as? [String: Any])?["fieldPath"] as? String,
                   "metadata.annotations['batch.kubernetes.io/job-completion-index']")
    let volumes = try XCTUnwrap(pod["volumes"] as? [[String: Any]])
    XCTAssertEqual((volumes[0]["persistentVolumeClaim"] as? [String: Any])?["claimName"] as? String, "podium-work")
    XCTAssertEqual((volumes[1]["configMap"] as? [String: Any])?["name"] as? String, "podium-grid-sweep-spec")
  }

  /// The environment a task runs in names its scheduler, job, index and restarts.
  func testTheWorker_readsItsTaskFromTheEnvironment() {
    XCTAssertEqual(SchedulerTask(environment: ["SLURM_ARRAY_JOB_ID": "5", "SLURM_ARRAY_TASK_ID": "3", "SLURM_RESTART_COUNT": "2"]),
                   SchedulerTask(scheduler: "slurm", jobID: "5", taskID: "3", restartCount: 2))
    XCTAssertEqual(SchedulerTask(environment: ["JOB_COMPLETION_INDEX": "7", "PODIUM_JOB_NAME": "podium-grid"]),
                   SchedulerTask(scheduler: "kubernetes", jobID: "podium-grid", taskID: "7", restartCount: nil))
    XCTAssertNil(SchedulerTask(environment: ["HOME": "/root"]))
  }
}
