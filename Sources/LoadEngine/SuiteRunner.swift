import Foundation
import SIPCore

/// `wasim suite DIR`: every scenario of a folder, run one after the other with its expectations, for
/// regression suites in CI. A scenario that does not load is an error case, not the end of the suite.
public struct SuiteRunner {
    /// One scenario's outcome.
    public struct Case: Sendable {
        public enum Status: String, Sendable { case passed, failed, error }
        public var file: String
        public var name: String
        public var status: Status
        public var seconds: Double
        public var summary: RunSummary?
        /// Why it failed (thresholds, responses) or could not run.
        public var message: String?
        public var resultsDirectory: String?
    }

    public let directory: String
    public let options: RunOptions

    public init(directory: String, options: RunOptions) {
        self.directory = directory
        self.options = options
    }

    /// The scenario files of the folder, sorted (`*.yaml`, `*.yml`; sub-folders such as `mocks/` are not entered).
    public func files() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
            .sorted()
            .map { (directory as NSString).appendingPathComponent($0) }
    }

    public func run(progress: ((Case) -> Void)? = nil) async throws -> [Case] {
        var cases: [Case] = []
        for file in try files() {
            let started = Date()
            var result: Case
            do {
                let scenario = try ScenarioLoader.load(path: file)
                let run = try await ScenarioRunner(scenario: scenario, options: options).run()
                let s = run.summary
                var why: [String] = s.thresholds.filter { !$0.ok }.map { "threshold failed: \($0.expression) (measured \($0.value.map { String(format: "%.3f", $0) } ?? "nothing"))" }
                if !scenario.expectedResponses.isEmpty, s.responses != scenario.expectedResponses {
                    why.append("responses \(Self.describe(s.responses)) != expected \(Self.describe(scenario.expectedResponses))")
                } else if scenario.expectedResponses.isEmpty, s.calls.unexpected > 0 {
                    why.append("\(s.calls.unexpected) of \(s.calls.attempted) calls did not end as expected: \(Self.describe(s.responses))")
                }
                if let x = s.expectations, x.unmet > 0 {
                    why.append("\(x.unmet) of \(x.checked) callee expectations not met: " + x.unmetExamples.prefix(3).joined(separator: "; "))
                }
                if s.interrupted { why.append("interrupted") }
                if s.calls.shed > 0 { why.append("\(s.calls.shed) calls not started (shed by the generator)") }
                // A saturated generator measured itself: no verdict on the target, so an error, not a failure.
                if s.generator.saturated { why.insert("the generator saturated (\(s.generator.saturationReason ?? "")): no verdict", at: 0) }
                let status: Case.Status = s.generator.saturated ? .error : s.passed ? .passed : .failed
                result = Case(file: file, name: scenario.name, status: status, seconds: Date().timeIntervalSince(started),
                              summary: s, message: why.isEmpty ? nil : why.joined(separator: "; "), resultsDirectory: run.directory)
            } catch {
                result = Case(file: file, name: ((file as NSString).lastPathComponent as NSString).deletingPathExtension, status: .error,
                              seconds: Date().timeIntervalSince(started), message: "\(error)")
            }
            progress?(result)
            cases.append(result)
            if options.control.isInterrupted { break }
        }
        return cases
    }

    static func describe(_ responses: [String: Int]) -> String {
        responses.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
    }
}

/// JUnit XML (the Ant/Jenkins schema CI systems read): one testsuite, one testcase per scenario, with
/// `failure` for a failed expectation and `error` for a scenario that could not run.
public enum JUnitReport {
    public static func xml(_ cases: [SuiteRunner.Case], suiteName: String = "wasim") -> String {
        let failures = cases.filter { $0.status == .failed }.count, errors = cases.filter { $0.status == .error }.count
        let total = cases.map(\.seconds).reduce(0, +)
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<testsuites name=\"\(escape(suiteName))\" tests=\"\(cases.count)\" failures=\"\(failures)\" errors=\"\(errors)\" time=\"\(String(format: "%.3f", total))\">\n"
        out += "  <testsuite name=\"\(escape(suiteName))\" tests=\"\(cases.count)\" failures=\"\(failures)\" errors=\"\(errors)\" skipped=\"0\" time=\"\(String(format: "%.3f", total))\" timestamp=\"\(ISO8601DateFormatter().string(from: Date()))\">\n"
        for c in cases {
            out += "    <testcase classname=\"wasim.scenario\" name=\"\(escape(c.name))\" file=\"\(escape(c.file))\" time=\"\(String(format: "%.3f", c.seconds))\""
            switch c.status {
            case .passed:
                out += ">\n"
            case .failed:
                out += ">\n      <failure message=\"\(escape(c.message ?? "failed"))\" type=\"expectation\">\(escape(details(c)))</failure>\n"
            case .error:
                out += ">\n      <error message=\"\(escape(c.message ?? "error"))\" type=\"scenario\">\(escape(c.message ?? ""))</error>\n"
            }
            if let s = c.summary {
                out += "      <system-out>\(escape("calls \(s.calls.attempted), connected \(s.calls.connected), failed \(s.calls.failed); setup p99 \(s.latencyMs.setup.p99) ms; results \(c.resultsDirectory ?? "")"))</system-out>\n"
            }
            out += "    </testcase>\n"
        }
        out += "  </testsuite>\n</testsuites>\n"
        return out
    }

    static func details(_ c: SuiteRunner.Case) -> String {
        guard let s = c.summary else { return c.message ?? "" }
        return (c.message ?? "") + "\nresponses: " + SuiteRunner.describe(s.responses) + "\nresults: " + (c.resultsDirectory ?? "")
    }

    /// XML text and attribute escaping; characters XML 1.0 forbids are dropped.
    static func escape(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value >= 0x20 && scalar.value != 0xFFFE && scalar.value != 0xFFFF { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }
}
