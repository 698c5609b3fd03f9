import NIOCore
import SIPCore
import MetaMock
import SIPTransport

/// The messages of one call, kept as values while the call runs and rendered as a ladder only when the
/// call is to be written (failed, or every call with `--trace all`), so tracing costs little on calls that
/// pass.
struct CallTrace {
    struct Entry {
        var at: NIODeadline
        var direction: SIPTraceEvent.Direction
        var message: SIPMessage
        var peer: String
    }

    var entries: [Entry] = []
    /// Free-text remarks (a media problem), printed after the ladder.
    var notes: [String] = []

    init() {}

    /// The ladder of messages another party kept (the mock's view of a user-initiated call).
    init(messages: [TracedSIPMessage]) {
        for m in messages { append(m.event, at: m.at) }
    }

    mutating func note(_ text: String) { if notes.count < 8 { notes.append(text) } }

    /// At most this many messages per call are kept (a retransmission storm must not grow without bound).
    static let maxEntries = 64

    mutating func append(_ event: SIPTraceEvent, at: NIODeadline) {
        guard entries.count < Self.maxEntries else { return }
        let remote = event.flow.remote
        let peer = "\(event.flow.transport.rawValue) \(remote.ipAddress ?? "?"):\(remote.port ?? 0)"
        entries.append(Entry(at: at, direction: event.direction, message: event.message, peer: peer))
    }

    /// A readable ladder: time from the first message, direction, peer, then the full message.
    func render(title: String) -> String {
        guard let first = entries.first?.at else { return title + "\n(no messages)\n" }
        var out = title + "\n\n"
        for e in entries {
            let ms = Double((e.at - first).nanoseconds) / 1e6
            let arrow = e.direction == .sent ? "──▶ sent to" : "◀── received from"
            let summary: String
            switch e.message {
            case .request(let r): summary = "\(r.method.rawValue) \(r.uri)"
            case .response(let r): summary = "\(r.statusCode) \(r.reasonPhrase)"
            }
            out += String(format: "+%9.3f ms  %@ %@  %@\n", ms, arrow, e.peer, summary)
            // "\r\n" is one Character in Swift: turn CRLF into LF before splitting into lines.
            let lines = SIPSerializer.text(e.message).replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
            out += lines.map { "    " + $0 }.joined(separator: "\n")
            out += "\n"
        }
        for note in notes { out += "note: \(note)\n" }
        return out
    }
}

/// Which calls get a trace file.
public enum TraceMode: String, Sendable, CaseIterable {
    case failed, all, none
}
