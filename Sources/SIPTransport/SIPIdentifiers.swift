/// Makes branch IDs, tags and Call-IDs: random per process, counted per endpoint, so that they are unique
/// without a lock and cheap to make (RFC 3261 §8.1.1.7 branch, §19.3 tags and Call-ID).
public struct SIPIdentifiers: Sendable {
    private let prefix: String
    private var counter: UInt64 = 0

    public init() {
        prefix = String(UInt64.random(in: 0...UInt64.max), radix: 36)
    }

    private mutating func next() -> String {
        counter &+= 1
        return prefix + "." + String(counter, radix: 36)
    }

    /// A branch with the RFC 3261 magic cookie.
    public mutating func branch() -> String { "z9hG4bK" + next() }

    public mutating func tag() -> String { String(UInt32.random(in: 0...UInt32.max), radix: 16) + next() }

    public mutating func callID(host: String) -> String { next() + "-" + String(UInt64.random(in: 0...UInt64.max), radix: 36) + "@" + host }

    /// 8 random hex characters for a digest cnonce.
    public func cnonce() -> String {
        let s = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        return String(repeating: "0", count: 8 - s.count) + s
    }
}
