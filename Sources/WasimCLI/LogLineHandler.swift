import Foundation
import Logging

/// wasim's log handler: one line per entry on standard error, as text (`info: line key=value`) or as a
/// JSON object (`{"time":…,"level":"info","logger":"wasim.mock","message":…,…metadata}`).
struct LogLineHandler: LogHandler {
    enum Format: String { case text, json }

    let label: String
    let format: Format
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    init(label: String, format: Format, level: Logger.Level) {
        self.label = label
        self.format = format
        logLevel = level
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { $1 } }
        let line: String
        switch format {
        case .text:
            let pairs = all.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
            line = "\(event.level): \(event.message)\(pairs)\n"
        case .json:
            var object: [String: Any] = [
                "time": Self.timestamp(), "level": event.level.rawValue, "logger": label, "message": "\(event.message)",
            ]
            for (k, v) in all where object[k] == nil { object[k] = Self.json(v) }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            line = String(decoding: data, as: UTF8.self) + "\n"
        }
        FileHandle.standardError.write(Data(line.utf8))
    }

    static func json(_ value: Logger.MetadataValue) -> Any {
        switch value {
        case .string(let s): return s
        case .stringConvertible(let c): return "\(c)"
        case .array(let a): return a.map(json)
        case .dictionary(let d): return d.mapValues(json)
        }
    }

    /// UTC, with milliseconds (a format style is a value: one for every line, no formatter per line).
    static let timeFormat = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    static func timestamp() -> String { timeFormat.format(Date()) }
}
