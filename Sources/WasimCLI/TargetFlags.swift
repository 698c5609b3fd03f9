import ArgumentParser
import Foundation
import LoadEngine
import SIPCore

/// Where a run goes and where its results land: the flags `wasim scenario` and `wasim capacity` share.
struct TargetFlags: ParsableArguments {
    @Option(help: "Send to this SIP URI instead of the scenario's target, e.g. 'sip:127.0.0.1:5061;transport=tls'.")
    var target: String?

    @Option(help: "Local address to send from and write in Via and Contact (SIPp's -i). Default: the address that routes to the target.")
    var bind: String?

    @Option(help: "tls, tcp or udp, over transport.protocol (SIPp's -t).")
    var transport: String?

    @Option(name: .customLong("set"), help: "Any scenario field, as PATH=VALUE (e.g. --set call.hold=5s); repeatable, later ones win.")
    var sets: [String] = []

    @Option(help: "Folder for run results.")
    var results: String = "Results"

    @Option(help: "Folder of the test CA and certificates (made when missing).")
    var certs: String = "Certs"

    /// `--target` as a SIP URI (a bad one is a usage error naming the flag).
    func targetURI() throws -> SIPURI? {
        guard let target else { return nil }
        do { return try SIPURI(target) } catch { throw ValidationError("--target '\(target)' is not a SIP URI: \(error)") }
    }

    /// `--transport` and every `--set`, in that order (a `--set` has the last word).
    func overrides() throws -> [ScenarioOverride] {
        var list: [ScenarioOverride] = []
        if let transport { list.append(ScenarioOverride(path: "transport.protocol", value: transport, flag: "--transport")) }
        for text in sets { list.append(try ScenarioOverride(parsing: text)) }
        return list
    }

    /// Loads the scenario with the overrides; a bad file or override prints its located error and exits 2.
    func load(_ file: String, overrides: [ScenarioOverride]) throws -> Scenario {
        do {
            return try ScenarioLoader.load(path: file, overrides: overrides)
        } catch let error as ScenarioError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }

    /// The run options these flags give, with a progress line redrawn in place on a terminal (each on its
    /// own line in a log, as in CI).
    func options(control: RunControl) throws -> RunOptions {
        let tty = isatty(STDOUT_FILENO) == 1
        var options = RunOptions(target: try targetURI(), resultsRoot: results, certsDirectory: certs, control: control) { line in
            if tty {
                print("\r\u{1B}[K" + line, terminator: "")
                fflush(nil)
            } else {
                print(line)
            }
        }
        options.bind = bind
        return options
    }
}
