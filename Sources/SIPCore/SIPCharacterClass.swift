/// A set of ASCII bytes as two 64-bit masks, so that testing a byte is a shift and an AND: no table in
/// memory, no lazily initialised global, no bounds check. The grammar's classes (RFC 3261 §25.1) are
/// literals in `SIPGrammar`; a test checks each against its definition.
public struct SIPCharacterClass: Sendable, Hashable {
    /// Bytes 0–63 and 64–127.
    public let low: UInt64
    public let high: UInt64

    @inlinable public init(low: UInt64, high: UInt64) {
        self.low = low
        self.high = high
    }

    /// The class of every byte in `members` (ASCII only), for tests and one-off classes.
    public init(_ members: String) {
        var low: UInt64 = 0, high: UInt64 = 0
        for byte in members.utf8 where byte < 128 {
            if byte < 64 { low |= 1 << UInt64(byte) } else { high |= 1 << UInt64(byte - 64) }
        }
        self.init(low: low, high: high)
    }

    @inlinable @inline(__always)
    public func contains(_ byte: UInt8) -> Bool {
        if byte < 64 { return low & (1 << UInt64(byte)) != 0 }
        if byte < 128 { return high & (1 << UInt64(byte &- 64)) != 0 }
        return false
    }

    /// True when every byte of `text` belongs to the class and it is not empty.
    @inlinable public func matchesAll<S: StringProtocol>(_ text: S) -> Bool {
        var any = false
        for byte in text.utf8 {
            guard contains(byte) else { return false }
            any = true
        }
        return any
    }
}
