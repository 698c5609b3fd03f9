import Testing
@testable import WasimMedia

/// STUN encoding and checks against the RFC 5769 test vectors (a stranger's bytes: the RFC's).
struct STUNVectorTests {
    static func hex(_ s: String) -> [UInt8] { SRTPVectorTests.hex(s) }
    static let password = Array("VOkJxbRl1RmTxUk/WvJxBt".utf8)
    static let transaction = hex("b7e7a701bc34d686fa87dfae")

    /// RFC 5769 §2.1: a Binding request with SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME, integrity and fingerprint.
    static let request = hex("000100582112a442b7e7a701bc34d686fa87dfae802200105354554e207465737420636c69656e74002400046e0001ff80290008932ff9b151263b36000600096576746a3a68367659202020000800149aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a280280004e57a3bcf")
    /// RFC 5769 §2.2: the IPv4 response, XOR-MAPPED-ADDRESS 192.0.2.1:32853.
    static let response = hex("0101003c2112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f7220002000080001a147e112a643000800142b91f599fd9e90c38c7489f92af9ba53f06be7d780280004c07d4c96")

    @Test func crc32CheckValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    }

    @Test func sampleRequestDecodesAndVerifies() throws {
        #expect(STUNMessage.verify(Self.request, integrityKey: Self.password))
        #expect(!STUNMessage.verify(Self.request, integrityKey: Array("wrong".utf8)))
        let m = try STUNMessage.decode(Self.request)
        #expect(m.type == STUNMessage.MessageType.bindingRequest.rawValue && m.transactionID == Self.transaction)
        #expect(m.value(.username) == Array("evtj:h6vY".utf8))
        #expect(m.value(.priority) == STUNMessage.bytes32(0x6E00_01FF))
        #expect(m.value(.iceControlled) == STUNMessage.bytes64(0x932F_F9B1_5126_3B36))
        // Re-encoded with the RFC's space padding, the bytes are the RFC's.
        #expect(m.encode(integrityKey: Self.password, fingerprint: true, padding: 0x20) == Self.request)
    }

    @Test func sampleResponseIsReproduced() throws {
        var m = STUNMessage(type: .bindingSuccess, transactionID: Self.transaction)
        m.add(.software, Array("test vector".utf8))
        m.add(.xorMappedAddress, STUNMessage.xorMappedAddress(ipv4: [192, 0, 2, 1], port: 32853))
        #expect(m.encode(integrityKey: Self.password, fingerprint: true, padding: 0x20) == Self.response)
        let decoded = try STUNMessage.decode(Self.response)
        let mapped = try #require(STUNMessage.decodeXorMappedAddress(decoded.value(.xorMappedAddress) ?? []))
        #expect(mapped.ipv4 == [192, 0, 2, 1] && mapped.port == 32853)
    }

    @Test func tamperingIsCaught() {
        var bad = Self.request
        bad[30] ^= 1
        #expect(!STUNMessage.verify(bad, integrityKey: Self.password))
        #expect(throws: STUNMessage.DecodeError.self) { try STUNMessage.decode(Array(Self.request.dropLast(4))) }
    }
}
