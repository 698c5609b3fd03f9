import ArgumentParser
import Logging

/// `--log-level` and `--log-format`: how wasim's log (swift-log) is written to standard error.
struct LoggingOptions: ParsableArguments {
    @Option(name: .customLong("log-level"), help: "Least severe log lines written: trace, debug, info, notice, warning, error, critical.")
    var level: String = "info"

    @Option(name: .customLong("log-format"), help: "text ('info: line', as before) or json (one JSON object per line, for log collectors).")
    var format: String = "text"

    func validate() throws {
        guard Logger.Level(rawValue: level) != nil else {
            throw ValidationError("'--log-level' is one of trace, debug, info, notice, warning, error, critical (got '\(level)')")
        }
        guard LogLineHandler.Format(rawValue: format) != nil else { throw ValidationError("'--log-format' is text or json (got '\(format)')") }
    }

    /// Sends every logger of the process to standard error in the chosen format, from the chosen level.
    func bootstrap() {
        let level = Logger.Level(rawValue: level) ?? .info
        let format = LogLineHandler.Format(rawValue: format) ?? .text
        LoggingSystem.bootstrap { label in LogLineHandler(label: label, format: format, level: level) }
    }
}
