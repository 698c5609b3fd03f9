import Foundation

/// One call as the mock saw it: one JSON line in the ledger.
public struct MockCallRecord: Sendable, Codable, Hashable {
    public enum Direction: String, Sendable, Codable { case bic, uic }

    public var callID: String
    public var direction: Direction
    public var from: String
    public var to: String
    /// Seconds since the Unix epoch.
    public var startedAt: Double
    public var answeredAt: Double?
    public var endedAt: Double?
    /// Final status sent for the INVITE (200, 403, 487, ...).
    public var finalStatus: Int?
    public var reason: String?
    /// Which rule rejected the call, when one did.
    public var rule: String?
    /// Who ended a connected call: `business` (BYE received) or `meta` (BYE sent).
    public var endedBy: String?
    /// True when the call counted towards the pair's 24 h connected-call limit.
    public var countedTowardsLimit: Bool = false
    /// The user's outcome drawn from the configured behaviour (`answer`, `decline`, `no_answer`, `unreachable`).
    public var userOutcome: String?
    /// Meta's WhatsApp call id (`x-wa-meta-wacid`).
    public var wacid: String?
    /// The `x-wa-meta-call-duration` Meta reported, in seconds.
    public var durationSeconds: Int?
    /// True when a business 200 OK altered Meta's Record-Route and Meta withheld its ACK (UIC).
    public var ackWithheld: Bool?
    /// `dtls` or `sdes` when media ran.
    public var mediaSecurity: String?
    public var mediaPacketsReceived: Int?
    public var mediaPacketsSent: Int?
    /// Answer → first decrypted packet from the business, in ms.
    public var mediaStartMs: Double?
    /// Business audio lost at the start (frames before the first decrypted one × 20 ms).
    public var clippedMs: Double?
    /// ICE, DTLS or SRTP failure, in words.
    public var mediaProblem: String?

    enum CodingKeys: String, CodingKey {
        case callID = "call_id", direction, from, to, startedAt = "started_at", answeredAt = "answered_at"
        case endedAt = "ended_at", finalStatus = "final_status", reason, rule, endedBy = "ended_by"
        case countedTowardsLimit = "counted_towards_limit", userOutcome = "user_outcome"
        case wacid, durationSeconds = "duration_s", ackWithheld = "ack_withheld"
        case mediaSecurity = "media_security", mediaPacketsReceived = "media_packets_received", mediaPacketsSent = "media_packets_sent"
        case mediaStartMs = "media_start_ms", clippedMs = "clipped_ms", mediaProblem = "media_problem"
    }
}

/// The calls of one event loop's mock core. Calls in progress are kept until they end; ended calls go out
/// as JSON lines to the ledger file (when there is one, in batches the core hands to its writer), and only
/// the most recent `recentLimit` of them stay in memory for `records`, so a mock left running keeps a flat
/// memory however many calls it serves.
public struct MockCallLedger: Sendable {
    /// Calls in progress, by Call-ID.
    private var open: [String: MockCallRecord] = [:]
    /// Ended calls, the most recent last (at most `recentLimit`, trimmed in halves).
    private var recent: [MockCallRecord] = []
    /// JSON lines of ended calls not yet handed to the ledger file.
    var unwritten: [UInt8] = []
    /// Whether ended calls are written out (the mock has a ledger file).
    var writes = false
    public var recentLimit = 10_000
    /// What every ended call came to, counted as it ends (for `/metrics`; the ledger file has the calls).
    public private(set) var tally = MockLedgerTally()

    public init() {}

    /// Calls in progress (opened, not ended).
    public var openCount: Int { open.count }

    /// Every call kept: the recent ended ones and those in progress.
    public var records: [MockCallRecord] { recent + open.values }

    mutating func open(_ record: MockCallRecord) {
        open[record.callID] = record
    }

    mutating func update(_ callID: String, _ body: (inout MockCallRecord) -> Void) {
        guard open[callID] != nil else { return }
        body(&open[callID]!)
    }

    mutating func close(_ callID: String, _ body: (inout MockCallRecord) -> Void) {
        guard var record = open.removeValue(forKey: callID) else { return }
        body(&record)
        tally.count(record)
        if writes { record.appendJSONLine(to: &unwritten) }
        recent.append(record)
        if recent.count >= recentLimit * 2 { recent.removeFirst(recent.count - recentLimit) }
    }

    /// Takes the JSON lines written since the last call.
    mutating func takeUnwritten() -> [UInt8] {
        defer { unwritten.removeAll(keepingCapacity: true) }
        return unwritten
    }

    /// Calls answered and not yet ended.
    public var openCalls: [MockCallRecord] { open.values.filter { $0.answeredAt != nil && $0.endedAt == nil } }

    /// JSON Lines.
    public static func jsonLines(_ records: [MockCallRecord]) -> String {
        var out: [UInt8] = []
        for record in records { record.appendJSONLine(to: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Reads a ledger file back.
    public static func read(path: String) throws -> [MockCallRecord] {
        let decoder = JSONDecoder()
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try data.split(separator: UInt8(ascii: "\n")).map { try decoder.decode(MockCallRecord.self, from: Data($0)) }
    }
}

extension MockCallRecord {
    /// One JSON line (keys sorted, absent values left out, as `JSONEncoder` with `.sortedKeys` writes it),
    /// written directly: a busy mock ends thousands of calls a second.
    func appendJSONLine(to out: inout [UInt8]) {
        var first = true
        func key(_ name: StaticString) {
            out.append(first ? UInt8(ascii: "{") : UInt8(ascii: ","))
            first = false
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
            out.append(contentsOf: "\":".utf8)
        }
        func string(_ name: StaticString, _ value: String?) {
            guard let value else { return }
            key(name)
            JSONText.append(value, to: &out)
        }
        func number(_ name: StaticString, _ value: Double?) {
            guard let value, value.isFinite else { return }
            key(name)
            out.append(contentsOf: JSONText.number(value).utf8)
        }
        func int(_ name: StaticString, _ value: Int?) {
            guard let value else { return }
            key(name)
            out.append(contentsOf: String(value).utf8)
        }
        func bool(_ name: StaticString, _ value: Bool?) {
            guard let value else { return }
            key(name)
            out.append(contentsOf: (value ? "true" : "false").utf8)
        }
        // Sorted by key, as CodingKeys name them.
        bool("ack_withheld", ackWithheld)
        number("answered_at", answeredAt)
        string("call_id", callID)
        number("clipped_ms", clippedMs)
        bool("counted_towards_limit", countedTowardsLimit)
        string("direction", direction.rawValue)
        int("duration_s", durationSeconds)
        number("ended_at", endedAt)
        string("ended_by", endedBy)
        int("final_status", finalStatus)
        string("from", from)
        int("media_packets_received", mediaPacketsReceived)
        int("media_packets_sent", mediaPacketsSent)
        string("media_problem", mediaProblem)
        string("media_security", mediaSecurity)
        number("media_start_ms", mediaStartMs)
        string("reason", reason)
        string("rule", rule)
        number("started_at", startedAt)
        string("to", to)
        string("user_outcome", userOutcome)
        string("wacid", wacid)
        out.append(contentsOf: "}\n".utf8)
    }
}

/// JSON text pieces (RFC 8259): strings escaped, numbers in their shortest form.
enum JSONText {
    static func append(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: "\\\"".utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: "\\\\".utf8)
            case UInt8(ascii: "/"): out.append(contentsOf: "\\/".utf8)
            case 0x0A: out.append(contentsOf: "\\n".utf8)
            case 0x0D: out.append(contentsOf: "\\r".utf8)
            case 0x09: out.append(contentsOf: "\\t".utf8)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: "\\u00".utf8)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// A number as JSONEncoder writes it: integral values without a fraction, others in their shortest
    /// round-tripping form.
    static func number(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(describing: value)
    }
}
