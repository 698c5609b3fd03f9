import Foundation
import Testing

/// Every seed and every input a fuzzer once crashed on (`Fuzz/Corpus`, `Fuzz/Regressions`) runs through
/// its parser again, in the debug build (overflow and bounds checks on), without libFuzzer.
@Suite("Fuzz corpus and regressions")
struct FuzzRegressionTests {
    static var binary: String { CLITests.root.appendingPathComponent(".build/debug/wasim-fuzz").path }
    static let targets = ["sip-stream", "sip-datagram", "sip-uri", "digest", "sdp", "stun", "scenario", "mock-config"]

    /// The folders `scripts/fuzz.sh` seeds a target with, that exist.
    static func inputs(_ target: String) -> [String] {
        let root = CLITests.root.path
        var dirs = ["Fuzz/Corpus/\(target)", "Fuzz/Regressions/\(target)"]
        switch target {
        case "sip-stream", "sip-datagram":
            dirs += ["Fuzz/Corpus/sip", "Tests/SIPCoreTests/Fixtures/torture/valid", "Tests/SIPCoreTests/Fixtures/torture/invalid"]
        case "scenario": dirs += ["Scenarios"]
        case "mock-config": dirs += ["Scenarios/mocks"]
        default: break
        }
        return dirs.map { root + "/" + $0 }.filter { FileManager.default.fileExists(atPath: $0) }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: FuzzRegressionTests.binary) || Peers.required),
          arguments: FuzzRegressionTests.targets)
    func replays(_ target: String) async throws {
        let inputs = Self.inputs(target)
        #expect(!inputs.isEmpty)
        let result = try await ExternalProcess.run(Self.binary, [target] + inputs, timeout: 120)
        #expect(result.status == 0, "\(result.output.suffix(2000))")
        #expect(result.output.contains("wasim-fuzz \(target): "), "\(result.output.suffix(500))")
    }
}
