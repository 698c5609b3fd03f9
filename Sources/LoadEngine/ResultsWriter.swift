import Foundation

/// Writes a run's files into `Results/<scenario>-<UTC time>/`, each atomically (temporary file + rename),
/// so an interrupted write never leaves half a file.
public struct ResultsWriter: Sendable {
    public let directory: String

    /// Makes the run folder under `root`: `<scenario>-<UTC time>[-shard-I-of-N]`, with `-2`, `-3`… when
    /// another run (another process writing to the same folder, as shards on a shared volume do) took
    /// the name first. The folder is made with one `mkdir`, which fails if it exists, so two processes
    /// never share one.
    public init(root: String, scenario: String, startedAt: Date, shard: RunShard? = nil) throws {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let stem = (root as NSString).appendingPathComponent("\(scenario)-\(formatter.string(from: startedAt))"
            + (shard.map { "-shard-\($0.index)-of-\($0.count)" } ?? ""))
        var dir = stem
        var n = 2
        while mkdir(dir, 0o755) != 0 {
            guard errno == EEXIST, n < 10_000 else { throw ResultsError.cannotWrite("cannot make \(dir): \(String(cString: strerror(errno)))") }
            dir = "\(stem)-\(n)"
            n += 1
        }
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
