import _CryptoExtras
import Crypto
import Foundation
import Testing
import WasimMedia

/// libsrtp2 through `SRTPSession` against RFC 3711: a reference transform written here from the RFC text
/// (key derivation §4.3, AES-CM §4.1.1, HMAC-SHA1 §4.2) reproduces the Appendix B vectors, and libsrtp2's
/// packets equal the reference's byte for byte.
struct SRTPVectorTests {
    static func hex(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        var i = s.startIndex
        while i < s.endIndex {
            let j = s.index(i, offsetBy: 2)
            out.append(UInt8(s[i..<j], radix: 16)!)
            i = j
        }
        return out
    }

    /// AES-CM keystream (RFC 3711 §4.1.1): AES of IV, IV+1, ... under `key`.
    static func keystream(key: [UInt8], iv: [UInt8], count: Int) throws -> [UInt8] {
        let zeros = [UInt8](repeating: 0, count: count)
        let out = try AES._CTR.encrypt(zeros, using: SymmetricKey(data: key), nonce: AES._CTR.Nonce(nonceBytes: iv))
        return Array(out)
    }

    /// RFC 3711 §4.3.1 with key_derivation_rate 0: x = (label || 0^48) XOR master_salt, IV = x * 2^16.
    static func derive(masterKey: [UInt8], masterSalt: [UInt8], label: UInt8, count: Int) throws -> [UInt8] {
        var iv = [UInt8](repeating: 0, count: 16)
        for i in 0..<14 { iv[i] = masterSalt[i] }
        iv[7] ^= label
        return try keystream(key: masterKey, iv: iv, count: count)
    }

    static let masterKey = hex("E1F97A0D3E018BE0D64FA32C06DE4139")
    static let masterSalt = hex("0EC675AD498AFEEBB6960B3AABE6")

    @Test func appendixB3KeyDerivation() throws {
        #expect(try Self.derive(masterKey: Self.masterKey, masterSalt: Self.masterSalt, label: 0, count: 16) == Self.hex("C61E7A93744F39EE10734AFE3FF7A087"))
        #expect(try Self.derive(masterKey: Self.masterKey, masterSalt: Self.masterSalt, label: 2, count: 14) == Self.hex("30CBBC08863D8C85D49DB34A9AE1"))
        #expect(try Self.derive(masterKey: Self.masterKey, masterSalt: Self.masterSalt, label: 1, count: 20) == Self.hex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4"))
    }

    @Test func appendixB2Keystream() throws {
        let stream = try Self.keystream(key: Self.hex("2B7E151628AED2A6ABF7158809CF4F3C"), iv: Self.hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000"), count: 16)
        #expect(stream == Self.hex("E03EAD0935C95E80E166B16DD92B4EB4"))
    }

    /// An RTP packet: version 2, payload type 111, the given sequence number, timestamp and SSRC, and a payload.
    static func rtp(sequence: UInt16, ssrc: UInt32, payload: [UInt8]) -> [UInt8] {
        var p: [UInt8] = [0x80, 111, UInt8(sequence >> 8), UInt8(sequence & 0xFF), 0, 0, 0x03, 0xC0]
        p += [UInt8(ssrc >> 24), UInt8((ssrc >> 16) & 0xFF), UInt8((ssrc >> 8) & 0xFF), UInt8(ssrc & 0xFF)]
        return p + payload
    }

    /// The SRTP packet RFC 3711 §3.3 makes of `packet` (ROC 0), for AES_CM_128_HMAC_SHA1_80.
    static func referenceProtect(_ packet: [UInt8], masterKey: [UInt8], masterSalt: [UInt8]) throws -> [UInt8] {
        let sessionKey = try derive(masterKey: masterKey, masterSalt: masterSalt, label: 0, count: 16)
        let authKey = try derive(masterKey: masterKey, masterSalt: masterSalt, label: 1, count: 20)
        let salt = try derive(masterKey: masterKey, masterSalt: masterSalt, label: 2, count: 14)
        // IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16), i = ROC * 2^16 + SEQ.
        var iv = [UInt8](repeating: 0, count: 16)
        for k in 0..<14 { iv[k] = salt[k] }
        for k in 0..<4 { iv[4 + k] ^= packet[8 + k] }
        iv[12] ^= packet[2]
        iv[13] ^= packet[3]
        let payload = Array(packet[12...])
        let stream = try keystream(key: sessionKey, iv: iv, count: payload.count)
        let encrypted = Array(packet[..<12]) + zip(payload, stream).map { $0 ^ $1 }
        var mac = HMAC<Insecure.SHA1>(key: SymmetricKey(data: authKey))
        mac.update(data: encrypted + [0, 0, 0, 0])
        return encrypted + Array(mac.finalize()).prefix(10)
    }

    @Test func libsrtpEqualsTheReference() throws {
        let sender = try SRTPSession(profile: .aesCM128HmacSHA1_80, keyAndSalt: Self.masterKey + Self.masterSalt, direction: .outbound)
        for sequence: UInt16 in [0, 1, 4660, 65535] {
            var packet = Self.rtp(sequence: sequence, ssrc: 0xDECAFBAD, payload: [UInt8](repeating: 0xAB, count: 160))
            let expected = try Self.referenceProtect(packet, masterKey: Self.masterKey, masterSalt: Self.masterSalt)
            try sender.protect(&packet)
            #expect(packet == expected, "sequence \(sequence)")
        }
    }

    @Test func roundTripReplayAndTamper() throws {
        for profile in SRTPProfile.allCases {
            let key = (0..<(profile.keyLength + profile.saltLength)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
            let sender = try SRTPSession(profile: profile, keyAndSalt: key, direction: .outbound)
            let receiver = try SRTPSession(profile: profile, keyAndSalt: key, direction: .inbound)
            let plain = Self.rtp(sequence: 100, ssrc: 42, payload: Array(0..<160).map(UInt8.init))
            var packet = plain
            try sender.protect(&packet)
            #expect(packet.count == plain.count + profile.tagLength)
            let copy = packet
            try receiver.unprotect(&packet)
            #expect(packet == plain, "\(profile)")
            var replayed = copy
            #expect(throws: SRTPError.self) { try receiver.unprotect(&replayed) }
            var next = Self.rtp(sequence: 101, ssrc: 42, payload: [1, 2, 3])
            try sender.protect(&next)
            next[14] ^= 0x01
            do {
                try receiver.unprotect(&next)
                Issue.record("a tampered packet was accepted")
            } catch let error as SRTPError {
                #expect(error.kind == .authentication)
            }
            // SRTCP: a receiver report.
            var rtcp: [UInt8] = [0x80, 201, 0, 1, 0, 0, 0, 42]
            try sender.protectRTCP(&rtcp)
            try receiver.unprotectRTCP(&rtcp)
            #expect(rtcp == [0x80, 201, 0, 1, 0, 0, 0, 42])
        }
    }

    @Test func wrongKeyLengthIsRefused() {
        #expect(throws: SRTPError.self) { try SRTPSession(profile: .aesCM128HmacSHA1_80, keyAndSalt: [1, 2, 3], direction: .outbound) }
    }
}
