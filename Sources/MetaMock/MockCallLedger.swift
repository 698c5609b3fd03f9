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

/// The calls of one event loop's mock core; merged across loops when written.
public struct MockCallLedger: Sendable {
    public private(set) var records: [MockCallRecord] = []
    private var openIndex: [String: Int] = [:]

    public init() {}

    mutating func open(_ record: MockCallRecord) {
        openIndex[record.callID] = records.count
        records.append(record)
    }

    mutating func update(_ callID: String, _ body: (inout MockCallRecord) -> Void) {
        guard let i = openIndex[callID] else { return }
        body(&records[i])
    }

    mutating func close(_ callID: String, _ body: (inout MockCallRecord) -> Void) {
        update(callID, body)
        openIndex[callID] = nil
    }

    /// Calls answered and not yet ended.
    public var openCalls: [MockCallRecord] { openIndex.values.map { records[$0] }.filter { $0.answeredAt != nil && $0.endedAt == nil } }

    /// JSON Lines.
    public static func jsonLines(_ records: [MockCallRecord]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return records.compactMap { try? encoder.encode($0) }.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "\n") + (records.isEmpty ? "" : "\n")
    }
}
