import Crypto
import SIPCore

/// How a server challenges and checks Digest credentials.
public struct DigestServerPolicy: Sendable {
    public var realm: String
    /// Challenges offered, in order (Meta: SHA-256 then MD5, or MD5 alone).
    public var algorithms: [DigestAlgorithm]
    /// Seconds a nonce stays valid; past it the server answers with a fresh challenge and `stale=true`.
    public var nonceLifetime: UInt64

    public init(realm: String, algorithms: [DigestAlgorithm] = [.md5], nonceLifetime: UInt64 = 300) {
        self.realm = realm
        self.algorithms = algorithms
        self.nonceLifetime = nonceLifetime
    }
}

/// The outcome of checking credentials.
public enum DigestVerdict: Sendable, Equatable {
    case accepted
    /// The nonce is ours but expired: challenge again with `stale=true` (RFC 2617 §3.2.1).
    case stale
    /// Wrong response, unknown or forged nonce, realm mismatch, or a replayed `nc`. The reason says which.
    case rejected(String)
}

/// Issues nonces and verifies credentials (RFC 2617 §3.2.1/§3.2.2, RFC 7616 §3.3/§3.4). Nonces are
/// stateless and self-authenticating, 16 lowercase hex characters like Meta's:
///
///     ttttt  iiiii  mmmmmm
///     time   issuer HMAC-SHA256(secret, time|issuer), 3 bytes
///     20 bit 20 bit (shard index: 4 bits, counter: 16 bits)
///
/// so any shard can check any nonce, and no two challenges of one second share a nonce (a shared nonce
/// would make the second client's `nc=00000001` look like a replay). Replay tracking (`nc` must grow) is
/// kept per instance, one instance per event loop. A wrong response uses its nonce up (on the loop that saw
/// it), so each guess costs a new challenge. Time is passed in (seconds), never read.
public struct DigestServer: Sendable {
    public let policy: DigestServerPolicy
    private let secret: [UInt8]
    /// The highest `nc` seen per nonce still within its lifetime, keyed by the nonce's 40-bit time-and-issuer
    /// head (unique per challenge), the value packing nc (high 32 bits) and the second it was seen.
    private var highestNC: [UInt64: UInt64] = [:]
    private var lastPrune: UInt64 = 0
    private let shard: UInt32
    private var counter: UInt32 = 0

    /// - Parameter shard: this instance's index (0–15) among the event loops, part of every nonce.
    public init(policy: DigestServerPolicy, secret: [UInt8], shard: Int = 0) {
        self.policy = policy
        self.secret = secret
        self.shard = UInt32(shard & 0xF)
    }

    /// Challenges for a 401/407, one per configured algorithm, sharing one new nonce.
    public mutating func challenges(now: UInt64, opaque: String, stale: Bool = false) -> [DigestChallenge] {
        counter = (counter &+ 1) & 0xFFFF
        let nonce = makeNonce(now: now, issuer: shard << 16 | counter)
        return policy.algorithms.map {
            DigestChallenge(realm: policy.realm, nonce: nonce, opaque: opaque, algorithm: $0, qopOptions: ["auth"], stale: stale)
        }
    }

    func makeNonce(now: UInt64, issuer: UInt32) -> String {
        let time = UInt32(truncatingIfNeeded: now) & Self.timeMask
        let head = hex(UInt64(time), digits: 5) + hex(UInt64(issuer & 0xF_FFFF), digits: 5)
        return head + mac(head)
    }

    /// Issue time is kept modulo 2^20 s (about 12 days), far above any nonce lifetime.
    static let timeMask: UInt32 = 0xF_FFFF

    private func mac(_ head: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Array(head.utf8), using: SymmetricKey(data: secret))
        return Array(code.prefix(3)).hexString
    }

    private func hex(_ value: UInt64, digits: Int) -> String {
        let s = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - s.count)) + s
    }

    /// Checks `credentials` for `method`; `password` is the one configured for `credentials.username`
    /// (nil when the user is unknown).
    public mutating func verify(_ credentials: DigestCredentials, method: SIPMethod, password: String?, now: UInt64) -> DigestVerdict {
        let nonce = credentials.nonce
        guard nonce.utf8.count == 16, mac(String(nonce.prefix(10))) == String(nonce.suffix(6)),
              let issued = UInt32(nonce.prefix(5), radix: 16)
        else { return .rejected("nonce was not issued by this server") }
        guard credentials.realm == policy.realm else { return .rejected("realm '\(credentials.realm)' is not '\(policy.realm)'") }
        guard policy.algorithms.contains(credentials.algorithm) else {
            return .rejected("algorithm \(credentials.algorithm.rawValue) was not offered")
        }
        let key = UInt64(nonce.prefix(10), radix: 16) ?? 0
        if let seen = highestNC[key], UInt32(seen >> 32) == Self.usedUp {
            return .rejected("nonce was used up by a wrong response")
        }
        guard let password else {
            useUp(key, now: now)
            return .rejected("unknown user '\(credentials.username)'")
        }
        let expected = DigestComputation.response(
            algorithm: credentials.algorithm, username: credentials.username, realm: credentials.realm,
            password: password, method: method.rawValue, uri: credentials.uri, nonce: nonce, nc: credentials.nc,
            cnonce: credentials.cnonce, qop: credentials.qop)
        guard constantTimeEqual(expected, credentials.response.lowercased()) else {
            // One wrong guess per challenge: the nonce cannot serve another (a guesser must ask again).
            useUp(key, now: now)
            return .rejected("digest response does not match")
        }
        let age = (UInt32(truncatingIfNeeded: now) &- issued) & Self.timeMask
        if UInt64(age) > policy.nonceLifetime { return .stale }
        if credentials.qop != nil {
            guard let ncText = credentials.nc, let nc = UInt32(ncText, radix: 16), nc > 0, nc < Self.usedUp else {
                return .rejected("qop=auth without a valid nc")
            }
            if let seen = highestNC[key], nc <= UInt32(seen >> 32) {
                return .rejected("nc \(ncText) replayed for this nonce")
            }
            highestNC[key] = UInt64(nc) << 32 | (now & 0xFFFF_FFFF)
            prune(now: now)
        }
        return .accepted
    }

    /// The `nc` recorded for a nonce that a wrong response used up: no later `nc` can pass it.
    static let usedUp = UInt32.max

    /// Marks a nonce as used up (kept until its lifetime is over, as the `nc` table is).
    private mutating func useUp(_ key: UInt64, now: UInt64) {
        highestNC[key] = UInt64(Self.usedUp) << 32 | (now & 0xFFFF_FFFF)
        prune(now: now)
    }

    /// Every 10 s, forgets the nonces past their lifetime: a replay of one is answered stale (a new
    /// challenge) before its nc is looked at, so only live nonces need their nc kept. A mock answering
    /// thousands of calls a second keeps a lifetime's worth, not ever more. Entries are removed in place:
    /// a filtered copy would allocate the whole table anew every 10 s, and glibc serves such repeated
    /// multi-megabyte blocks from its heap once one has been freed, which grew the mock's RSS by ~500
    /// bytes per call with a flat live heap.
    private mutating func prune(now: UInt64) {
        guard now >= lastPrune + 10 else { return }
        lastPrune = now
        let lifetime = policy.nonceLifetime
        var expired: [UInt64] = []
        for (key, value) in highestNC where now &- (value & 0xFFFF_FFFF) > lifetime { expired.append(key) }
        for key in expired { highestNC.removeValue(forKey: key) }
    }

    /// How many nonces have their highest `nc` kept (what the 10 s prune bounds).
    public var trackedNonceCount: Int { highestNC.count }

    private func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<x.count { diff |= x[i] ^ y[i] }
        return diff == 0
    }
}
