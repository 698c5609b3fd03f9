import Foundation

/// Writes a run's files into `Results/<scenario>-<UTC time>/`, each atomically (temporary file + rename),
/// so an interrupted write never leaves half a file.
public struct ResultsWriter {
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

    /// One row per call.
    public func writeCalls(_ records: [CallRecord]) throws {
        var out = "index,call_id,callee,intended_start_ms,actual_start_ms,status,reason,setup_ms,post_dial_ms,auth_ms,hangup,media,media_start_ms,clipped_ms,client_hello_retransmissions,dtls_handshake_ms,ice_ms,direction,duration_ms,expected,as_expected\n"
        func f(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "" }
        func q(_ s: String) -> String { s.contains(",") || s.contains("\"") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s }
        for r in records.sorted(by: { $0.index < $1.index }) {
            out += "\(r.index),\(q(r.callID)),\(r.callee),\(f(r.intendedStartMs)),\(f(r.actualStartMs)),\(r.status),\(q(r.reason)),\(f(r.setupMs)),\(f(r.postDialMs)),\(f(r.authMs)),\(r.hangup),\(r.mediaSecurity),\(f(r.mediaStartMs)),\(f(r.clippedMs)),\(r.clientHelloRetransmissions.map(String.init) ?? ""),\(f(r.dtlsHandshakeMs)),\(f(r.iceMs)),\(r.direction),\(f(r.durationMs)),\(q(r.expected)),\(r.expectationMet.map { $0 ? "yes" : "no" } ?? "")\n"
        }
        try write("calls.csv", text: out)
    }
}
