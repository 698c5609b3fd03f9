import ArgumentParser
import Foundation
@testable import WasimCLI
import Testing
import Yams

/// deploy/kubernetes and the Dockerfile, checked without a cluster or a container engine: the manifests
/// parse as YAML with the fields Kubernetes needs, they fit together (volumes, ports, labels, the shard
/// count), and every container's arguments parse with wasim's own command line, for each completion index.
@Suite("Deployment manifests")
struct DeploymentManifestTests {
    static let deploy = CLITests.root.appendingPathComponent("deploy/kubernetes")

    /// Every document of every manifest file, by kind and name.
    static func documents() throws -> [String: [String: Any]] {
        var all: [String: [String: Any]] = [:]
        for file in try FileManager.default.contentsOfDirectory(atPath: deploy.path).filter({ $0.hasSuffix(".yaml") }).sorted() {
            let text = try String(contentsOf: deploy.appendingPathComponent(file), encoding: .utf8)
            for case let doc as [String: Any] in try Yams.load_all(yaml: text) {
                let kind = try #require(doc["kind"] as? String, "\(file): a document without kind")
                #expect(doc["apiVersion"] is String, "\(file): \(kind) without apiVersion")
                let name = try #require((doc["metadata"] as? [String: Any])?["name"] as? String, "\(file): \(kind) without metadata.name")
                all["\(kind)/\(name)"] = doc
            }
        }
        return all
    }

    static func dig(_ any: Any?, _ path: String...) -> Any? {
        var node = any
        for key in path { node = (node as? [String: Any])?[key] }
        return node
    }

    /// The pod template's single container and the pod spec.
    static func container(_ doc: [String: Any]) throws -> (container: [String: Any], pod: [String: Any]) {
        let pod = try #require(dig(doc, "spec", "template", "spec") as? [String: Any])
        let containers = try #require(pod["containers"] as? [[String: Any]])
        try #require(containers.count == 1)
        return (containers[0], pod)
    }

    /// `$(NAME)` replaced by the container's env values (as Kubernetes does), with `overrides` first.
    static func expand(_ args: [String], env: [[String: Any]], overrides: [String: String] = [:]) -> [String] {
        var values = overrides
        for e in env { if let n = e["name"] as? String, let v = e["value"] as? String, values[n] == nil { values[n] = v } }
        return args.map { arg in values.reduce(arg) { $0.replacingOccurrences(of: "$(\($1.key))", with: $1.value) } }
    }

    /// Volumes mounted are declared, and claims exist.
    static func checkVolumes(_ container: [String: Any], pod: [String: Any], documents: [String: [String: Any]]) throws {
        let volumes = (pod["volumes"] as? [[String: Any]]) ?? []
        for mount in (container["volumeMounts"] as? [[String: Any]]) ?? [] {
            let name = try #require(mount["name"] as? String)
            let volume = try #require(volumes.first { $0["name"] as? String == name }, "volume \(name) is mounted but not declared")
            if let claim = dig(volume, "persistentVolumeClaim", "claimName") as? String {
                #expect(documents["PersistentVolumeClaim/\(claim)"] != nil, "claim \(claim) is not in deploy/kubernetes")
            }
        }
    }

    @Test func indexedJobRunsOneShardPerCompletionIndex() throws {
        let docs = try Self.documents()
        let job = try #require(docs["Job/wasim-bic-burst"])
        #expect(Self.dig(job, "spec", "completionMode") as? String == "Indexed")
        let completions = try #require(Self.dig(job, "spec", "completions") as? Int)
        #expect(Self.dig(job, "spec", "parallelism") as? Int == completions, "every shard at once, so they start together")
        #expect(Self.dig(job, "spec", "template", "spec", "restartPolicy") as? String == "Never")
        let (container, pod) = try Self.container(job)
        try Self.checkVolumes(container, pod: pod, documents: docs)
        let env = (container["env"] as? [[String: Any]]) ?? []
        let index = try #require(env.first { $0["name"] as? String == "JOB_COMPLETION_INDEX" })
        #expect(Self.dig(index, "valueFrom", "fieldRef", "fieldPath") as? String == "metadata.annotations['batch.kubernetes.io/job-completion-index']")
        let args = try #require(container["args"] as? [String])
        let shard = try #require(args.firstIndex(of: "--shard").map { args[$0 + 1] })
        #expect(shard == "$(JOB_COMPLETION_INDEX)/\(completions)", "the shard count is the Job's completions")
        // Each pod's command line, as Kubernetes expands it, parses with wasim's and names its shard.
        for i in 0..<completions {
            let expanded = Self.expand(args, env: env, overrides: ["JOB_COMPLETION_INDEX": "\(i)"])
            #expect(!expanded.joined().contains("$("), "an env reference that is not defined: \(expanded)")
            let command = try Wasim.parseAsRoot(expanded)
            let scenario = try #require(command as? ScenarioCommand, "\(expanded) is not wasim scenario")
            #expect(scenario.shard == "\(i)/\(completions)")
            // The image has the repository's Scenarios/ at /scenarios.
            let file = scenario.file.replacingOccurrences(of: "/scenarios/", with: CLITests.root.path + "/Scenarios/")
            #expect(FileManager.default.fileExists(atPath: file), "\(scenario.file) is not in Scenarios/")
            #expect(scenario.metrics.address == "0.0.0.0:9464")
        }
        let metricsPort = try #require((container["ports"] as? [[String: Any]])?.first { $0["name"] as? String == "metrics" }?["containerPort"] as? Int)
        #expect(Self.dig(job, "spec", "template", "metadata", "annotations", "prometheus.io/port") as? String == "\(metricsPort)")
        // A shard index outside the split is refused by the same parser (the check above can fail).
        #expect(throws: (any Error).self) { try Wasim.parseAsRoot(Self.expand(args, env: env, overrides: ["JOB_COMPLETION_INDEX": "\(completions)"])) }
    }

    @Test func mergeJobMergesTheSameRun() throws {
        let docs = try Self.documents()
        let job = try #require(docs["Job/wasim-bic-burst"]), merge = try #require(docs["Job/wasim-bic-burst-merge"])
        let (loadContainer, _) = try Self.container(job)
        let (container, pod) = try Self.container(merge)
        try Self.checkVolumes(container, pod: pod, documents: docs)
        let loadEnv = (loadContainer["env"] as? [[String: Any]]) ?? [], env = (container["env"] as? [[String: Any]]) ?? []
        func value(_ env: [[String: Any]], _ name: String) -> String? { env.first { $0["name"] as? String == name }?["value"] as? String }
        #expect(value(env, "RUN_ID") == value(loadEnv, "RUN_ID"), "the merge reads the run the load Job wrote")
        #expect(value(env, "SHARDS") == "\(Self.dig(job, "spec", "completions") as? Int ?? -1)")
        #expect(container["command"] as? [String] == ["/bin/sh", "-c"])
        // The shell line, with its variables and glob as the shell would leave them for three shards.
        let line = try #require((container["args"] as? [String])?.first)
        let words = line.replacingOccurrences(of: "\"$RUN_ID\"", with: "run").replacingOccurrences(of: "\"$SHARDS\"", with: "10")
            .split(separator: " ").map(String.init)
        let start = try #require(words.firstIndex(of: "wasim"))
        let command = try Wasim.parseAsRoot(Array(words[(start + 1)...]))
        let parsed = try #require(command as? MergeCommand)
        #expect(parsed.out == "/shared/results/run/merged" && parsed.directories == ["/shared/results/run/*-shard-*-of-10"])
        // The load Job's results folder is the one the merge globs.
        let loadArgs = Self.expand(try #require(loadContainer["args"] as? [String]), env: loadEnv, overrides: ["JOB_COMPLETION_INDEX": "0"])
        let results = try #require(loadArgs.firstIndex(of: "--results").map { loadArgs[$0 + 1] })
        #expect(results == "/shared/results/\(value(loadEnv, "RUN_ID") ?? "")")
    }

    @Test func mockDeploymentAndServiceAgree() throws {
        let docs = try Self.documents()
        let deployment = try #require(docs["Deployment/wasim-mock"]), service = try #require(docs["Service/wasim-mock"])
        let (container, pod) = try Self.container(deployment)
        try Self.checkVolumes(container, pod: pod, documents: docs)
        let args = try #require(container["args"] as? [String])
        let mock = try #require(try Wasim.parseAsRoot(args) as? MockCommand)
        let ports = try #require(container["ports"] as? [[String: Any]])
        func port(_ name: String) -> Int? { ports.first { $0["name"] as? String == name }?["containerPort"] as? Int }
        #expect(port("sip-tls") == mock.tlsPort && port("sip-udp") == mock.udpPort && port("sip-tcp") == mock.tcpPort)
        #expect(mock.metrics.address.flatMap(MockCommand.hostPort)?.port == port("metrics"))
        #expect(mock.host == "0.0.0.0", "reachable from other pods")
        // The Service selects the pods and targets their named ports.
        let labels = try #require(Self.dig(deployment, "spec", "template", "metadata", "labels") as? [String: String])
        let selector = try #require(Self.dig(service, "spec", "selector") as? [String: String])
        #expect(selector.allSatisfy { labels[$0.key] == $0.value })
        #expect(Self.dig(deployment, "spec", "selector", "matchLabels") as? [String: String] == selector)
        for p in try #require(Self.dig(service, "spec", "ports") as? [[String: Any]]) {
            let target = try #require(p["targetPort"] as? String)
            #expect(ports.contains { $0["name"] as? String == target && $0["protocol"] as? String == p["protocol"] as? String }, "\(target)")
        }
        // The load Job's target is this Service's TLS port.
        let (load, _) = try Self.container(try #require(docs["Job/wasim-bic-burst"]))
        let loadArgs = try #require(load["args"] as? [String])
        let target = try #require(loadArgs.firstIndex(of: "--target").map { loadArgs[$0 + 1] })
        #expect(target == "sip:wasim-mock:\(mock.tlsPort);transport=tls")
    }

    /// The image: a build stage and a runtime stage that copies what the build stage made, wasim as the
    /// entry point, the scenarios where the manifests look for them.
    @Test func dockerfileStagesFitTogether() throws {
        let text = try String(contentsOf: CLITests.root.appendingPathComponent("Dockerfile"), encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") }
        let stages = lines.filter { $0.hasPrefix("FROM ") }
        #expect(stages.count == 2 && stages[0].hasSuffix(" AS build") && stages[0].contains("swift:"), "\(stages)")
        let build = lines.prefix { !$0.hasPrefix("FROM debian") }.joined(separator: "\n")
        #expect(build.contains("--product wasim") && build.contains("-c release") && build.contains("/out/wasim"))
        #expect(build.contains("scripts/build-libsrtp2.sh"))
        let script = try String(contentsOf: CLITests.root.appendingPathComponent("scripts/build-libsrtp2.sh"), encoding: .utf8)
        #expect(script.contains("--prefix=/usr/local"), "the runtime stage copies libsrtp2 from /usr/local/lib")
        #expect(lines.contains("COPY --from=build /usr/local/lib/libsrtp2.so.1 /usr/local/lib/"))
        #expect(lines.contains("COPY --from=build /out/wasim /usr/local/bin/wasim"))
        #expect(lines.contains("COPY Scenarios /scenarios"))
        #expect(lines.contains("ENTRYPOINT [\"wasim\"]"))
        let ignored = try String(contentsOf: CLITests.root.appendingPathComponent(".dockerignore"), encoding: .utf8)
        #expect(ignored.contains(".build") && ignored.contains("Results"), "no build folder or results in the build context")
    }
}
