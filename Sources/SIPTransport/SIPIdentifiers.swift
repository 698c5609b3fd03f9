/// Makes branch IDs, tags and Call-IDs: random per process, counted per endpoint, so that they are unique
/// without a lock and cheap to make (RFC 3261 §8.1.1.7 branch, §19.3 tags and Call-ID). The random parts
/// come from a generator seeded once from the system's: on Linux every system random value is a
/// `getrandom` syscall, too dear per message. These identifiers need uniqueness, not secrecy.
public struct SIPIdentifiers: Sendable {
    private let prefix: String
    private var counter: UInt64 = 0
    private var random: FastRandom

    public init() {
        prefix = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        random = FastRandom()
    }

    /// A random 64-bit value from the per-endpoint generator.
    public mutating func next64() -> UInt64 { random.next() }

    private mutating func next() -> String {
        counter &+= 1
        return prefix + "." + String(counter, radix: 36)
    }

    /// A branch with the RFC 3261 magic cookie.
    public mutating func branch() -> String { "z9hG4bK" + next() }

    public mutating func tag() -> String { String(UInt32(truncatingIfNeeded: random.next()), radix: 16) + next() }

    public mutating func callID(host: String) -> String { next() + "-" + String(random.next(), radix: 36) + "@" + host }

    /// 8 random hex characters for a digest cnonce.
    public mutating func cnonce() -> String { FastRandom.hex(random.next(), digits: 8) }
}

/// SplitMix64, seeded from the system generator once: fast, uniform, not for secrets.
public struct FastRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init() { state = UInt64.random(in: 0...UInt64.max) }

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform value in [0, 1).
    public mutating func nextUnit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// The low `digits` hex digits of `value`, zero-padded, lowercase.
    public static func hex(_ value: UInt64, digits: Int) -> String {
        String(unsafeUninitializedCapacity: digits) { out in
            var v = value
            for i in stride(from: digits - 1, through: 0, by: -1) {
                let nibble = UInt8(v & 0xF)
                out[i] = nibble < 10 ? 0x30 + nibble : 0x61 + nibble - 10
                v >>= 4
            }
            return digits
        }
    }

    /// A UUID-v4-shaped string from two random values (Meta's To-tags look like this).
    public mutating func uuid() -> String {
        let a = next(), b = next()
        let variant = UInt64(8 + (b >> 62))  // 8, 9, a or b
        return Self.hex(a >> 32, digits: 8) + "-" + Self.hex(a >> 16, digits: 4) + "-4" + Self.hex(a, digits: 3) + "-"
            + Self.hex(variant, digits: 1) + Self.hex(b >> 48, digits: 3) + "-" + Self.hex(b, digits: 12)
    }
}
