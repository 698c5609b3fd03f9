import Crypto

/// A STUN message (RFC 5389 §6) as ICE uses it (RFC 8445 §7): Binding requests and responses with
/// USERNAME, PRIORITY, ICE-CONTROLLING/-CONTROLLED, USE-CANDIDATE, XOR-MAPPED-ADDRESS, ERROR-CODE,
/// MESSAGE-INTEGRITY (HMAC-SHA1, §15.4) and FINGERPRINT (CRC-32 XOR 0x5354554E, §15.5).
public struct STUNMessage: Sendable, Equatable {
    public static let magicCookie: UInt32 = 0x2112_A442

    /// Message types used by ICE (method Binding).
    public enum MessageType: UInt16, Sendable {
        case bindingRequest = 0x0001
        case bindingSuccess = 0x0101
        case bindingError = 0x0111
        case bindingIndication = 0x0011
    }

    /// Attribute types (RFC 5389 §18.2, RFC 8445 §16.1).
    public enum Attribute: UInt16, Sendable {
        case mappedAddress = 0x0001
        case username = 0x0006
        case messageIntegrity = 0x0008
        case errorCode = 0x0009
        case xorMappedAddress = 0x0020
        case priority = 0x0024
        case useCandidate = 0x0025
        case software = 0x8022
        case fingerprint = 0x8028
        case iceControlled = 0x8029
        case iceControlling = 0x802A
    }

    public var type: UInt16
    public var transactionID: [UInt8]
    /// Attributes in order, other than MESSAGE-INTEGRITY and FINGERPRINT (added when encoding).
    public var attributes: [(type: UInt16, value: [UInt8])]

    public init(type: MessageType, transactionID: [UInt8], attributes: [(type: UInt16, value: [UInt8])] = []) {
        self.type = type.rawValue
        self.transactionID = transactionID
        self.attributes = attributes
    }

    public static func == (a: STUNMessage, b: STUNMessage) -> Bool {
        a.type == b.type && a.transactionID == b.transactionID && a.attributes.map(\.type) == b.attributes.map(\.type)
            && a.attributes.map(\.value) == b.attributes.map(\.value)
    }

    public func value(_ attribute: Attribute) -> [UInt8]? { attributes.first { $0.type == attribute.rawValue }?.value }

    public mutating func add(_ attribute: Attribute, _ value: [UInt8]) { attributes.append((attribute.rawValue, value)) }

    /// True when the first byte marks STUN (RFC 7983: 0–3) and the magic cookie is in place.
    public static func looksLikeSTUN(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 20 && bytes[0] < 4 && bytes[4] == 0x21 && bytes[5] == 0x12 && bytes[6] == 0xA4 && bytes[7] == 0x42
    }

    // MARK: Encoding

    /// The wire form, with MESSAGE-INTEGRITY keyed by `integrityKey` (the ICE password, short-term
    /// credentials §15.4) and FINGERPRINT when asked. `padding` fills attribute padding (RFC 5769 uses spaces).
    public func encode(integrityKey: [UInt8]? = nil, fingerprint: Bool = true, padding: UInt8 = 0) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        Self.put16(&out, type)
        Self.put16(&out, 0)
        Self.put32(&out, Self.magicCookie)
        out += transactionID
        for (t, v) in attributes { Self.append(&out, t, v, padding: padding) }
        if let integrityKey {
            // §15.4: the length covers the MESSAGE-INTEGRITY attribute; the HMAC covers everything before it.
            Self.setLength(&out, out.count - 20 + 24)
            let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: out, using: SymmetricKey(data: integrityKey)))
            Self.append(&out, Attribute.messageIntegrity.rawValue, mac, padding: padding)
        }
        if fingerprint {
            Self.setLength(&out, out.count - 20 + 8)
            var crc: [UInt8] = []
            Self.put32(&crc, CRC32.checksum(out) ^ 0x5354_554E)
            Self.append(&out, Attribute.fingerprint.rawValue, crc, padding: padding)
        }
        Self.setLength(&out, out.count - 20)
        return out
    }

    // MARK: Decoding

    public enum DecodeError: Error, Equatable { case tooShort, notSTUN, badLength, badAttribute }

    /// Parses a message; integrity and fingerprint are checked separately with `verify`.
    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> STUNMessage {
        guard bytes.count >= 20 else { throw .tooShort }
        guard looksLikeSTUN(bytes) else { throw .notSTUN }
        let length = Int(get16(bytes, 2))
        guard length % 4 == 0, 20 + length == bytes.count else { throw .badLength }
        var message = STUNMessage(type: .bindingRequest, transactionID: Array(bytes[8..<20]))
        message.type = get16(bytes, 0)
        var offset = 20
        while offset + 4 <= bytes.count {
            let t = get16(bytes, offset), l = Int(get16(bytes, offset + 2))
            guard offset + 4 + l <= bytes.count else { throw .badAttribute }
            if t != Attribute.messageIntegrity.rawValue && t != Attribute.fingerprint.rawValue {
                message.attributes.append((t, Array(bytes[(offset + 4)..<(offset + 4 + l)])))
            }
            offset += 4 + (l + 3) / 4 * 4
        }
        return message
    }

    /// Checks MESSAGE-INTEGRITY with `key` (§15.4) and FINGERPRINT (§15.5) when present. `requireIntegrity`
    /// makes a missing MESSAGE-INTEGRITY a failure (ICE connectivity checks must carry one).
    public static func verify(_ bytes: [UInt8], integrityKey: [UInt8], requireIntegrity: Bool = true) -> Bool {
        var offset = 20
        var integrityOK = !requireIntegrity
        while offset + 4 <= bytes.count {
            let t = get16(bytes, offset), l = Int(get16(bytes, offset + 2))
            guard offset + 4 + l <= bytes.count else { return false }
            if t == Attribute.messageIntegrity.rawValue {
                guard l == 20 else { return false }
                var covered = Array(bytes[..<offset])
                setLength(&covered, offset - 20 + 24)
                let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: covered, using: SymmetricKey(data: integrityKey)))
                integrityOK = mac == Array(bytes[(offset + 4)..<(offset + 24)])
            } else if t == Attribute.fingerprint.rawValue {
                guard l == 4 else { return false }
                var covered = Array(bytes[..<offset])
                setLength(&covered, offset - 20 + 8)
                let expected = CRC32.checksum(covered) ^ 0x5354_554E
                guard expected == get32(bytes, offset + 4) else { return false }
            }
            offset += 4 + (l + 3) / 4 * 4
        }
        return integrityOK
    }

    // MARK: Attribute values

    /// XOR-MAPPED-ADDRESS for an IPv4 address (§15.2).
    public static func xorMappedAddress(ipv4: [UInt8], port: UInt16) -> [UInt8] {
        var v: [UInt8] = [0, 0x01]
        put16(&v, port ^ UInt16(magicCookie >> 16))
        let cookie: [UInt8] = [0x21, 0x12, 0xA4, 0x42]
        v += zip(ipv4, cookie).map { $0 ^ $1 }
        return v
    }

    /// The IPv4 address and port of an XOR-MAPPED-ADDRESS value.
    public static func decodeXorMappedAddress(_ v: [UInt8]) -> (ipv4: [UInt8], port: UInt16)? {
        guard v.count == 8, v[1] == 0x01 else { return nil }
        let port = get16(v, 2) ^ UInt16(magicCookie >> 16)
        let cookie: [UInt8] = [0x21, 0x12, 0xA4, 0x42]
        return (zip(v[4..<8], cookie).map { $0 ^ $1 }, port)
    }

    /// ERROR-CODE (§15.6): class, number and reason phrase.
    public static func errorCode(_ code: Int, _ reason: String) -> [UInt8] {
        [0, 0, UInt8(code / 100), UInt8(code % 100)] + Array(reason.utf8)
    }

    // MARK: Bytes

    static func put16(_ out: inout [UInt8], _ v: UInt16) { out += [UInt8(v >> 8), UInt8(v & 0xFF)] }
    static func put32(_ out: inout [UInt8], _ v: UInt32) { out += [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
    static func put64(_ out: inout [UInt8], _ v: UInt64) { put32(&out, UInt32(v >> 32)); put32(&out, UInt32(v & 0xFFFF_FFFF)) }
    static func get16(_ b: [UInt8], _ i: Int) -> UInt16 { UInt16(b[i]) << 8 | UInt16(b[i + 1]) }
    static func get32(_ b: [UInt8], _ i: Int) -> UInt32 { UInt32(get16(b, i)) << 16 | UInt32(get16(b, i + 2)) }
    static func setLength(_ out: inout [UInt8], _ length: Int) {
        out[2] = UInt8((length >> 8) & 0xFF)
        out[3] = UInt8(length & 0xFF)
    }

    static func append(_ out: inout [UInt8], _ type: UInt16, _ value: [UInt8], padding: UInt8) {
        put16(&out, type)
        put16(&out, UInt16(value.count))
        out += value
        let pad = (4 - value.count % 4) % 4
        if pad > 0 { out += [UInt8](repeating: padding, count: pad) }
    }

    /// A 64-bit value as big-endian bytes (ICE-CONTROLLING/-CONTROLLED tie-breakers).
    public static func bytes64(_ v: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        put64(&out, v)
        return out
    }

    /// A 32-bit value as big-endian bytes (PRIORITY).
    public static func bytes32(_ v: UInt32) -> [UInt8] {
        var out: [UInt8] = []
        put32(&out, v)
        return out
    }
}

/// CRC-32 (ISO 3309 / ITU-T V.42, as RFC 5389 §15.5 uses), table driven.
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}
