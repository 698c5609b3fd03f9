import Foundation

/// Writes a run's files into `Results/<scenario>-<UTC time>/`, each atomically (temporary file + rename),
/// so an interrupted write never leaves half a file.
public struct ResultsWriter: Sendable {
    public let directory: String

    /// Makes the run folder under `root`.
    public init(root: String, scenario: String, startedAt: Date) throws {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        var dir = (root as NSString).appendingPathComponent("\(scenario)-\(formatter.string(from: startedAt))")
        var n = 2
        while FileManager.default.fileExists(atPath: dir) {
            dir = (root as NSString).appendingPathComponent("\(scenario)-\(formatter.string(from: startedAt))-\(n)")
            n += 1
        }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        directory = dir
    }

    /// Writes into a run folder that exists (`wasim report`).
    public init(existing directory: String) { self.directory = directory }

    public func write(_ name: String, _ data: Data) throws {
        let path = (directory as NSString).appendingPathComponent(name)
        let folder = (path as NSString).deletingLastPathComponent
        if folder != directory { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        let temp = path + ".partial"
        try data.write(to: URL(fileURLWithPath: temp))
        guard rename(temp, path) == 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    public func write(_ name: String, text: String) throws { try write(name, Data(text.utf8)) }

    public func writeSummary(_ summary: RunSummary) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try write("summary.json", encoder.encode(summary) + Data("\n".utf8))
    }
}

/// A results file could not be written.
public enum ResultsError: Error, CustomStringConvertible {
    case cannotWrite(String)

    public var description: String {
        switch self {
        case .cannotWrite(let why): return "cannot write results: \(why)"
        }
    }
}
