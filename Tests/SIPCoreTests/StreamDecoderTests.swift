import NIOCore
import SIPCore
import Testing

/// `SIPStreamDecoder`: framing on TCP/TLS (RFC 3261 §18.3) under every way bytes can arrive.
@Suite("Stream decoder")
struct StreamDecoderTests {
    static let invite = [
        "INVITE sip:+15550200000@wa.meta.vc;transport=tls SIP/2.0",
        "Via: SIP/2.0/TLS 192.0.2.10:5061;branch=z9hG4bK776asdhds;alias",
        "Max-Forwards: 70",
        "From: <sip:+33639980001@sip.example.com>;tag=1928301774",
        "To: <sip:+15550200000@wa.meta.vc>",
        "Call-ID: a84b4c76e66710@sip.example.com",
        "CSeq: 314159 INVITE",
        "Contact: <sip:+33639980001@sip.example.com;transport=tls>",
        "Content-Type: application/sdp",
        "Content-Length: 8",
        "",
        "v=0\r\ns=-",
    ].joined(separator: "\r\n")

    static let bye = [
        "BYE sip:+15550200000@wa.meta.vc;transport=tls SIP/2.0",
        "Via: SIP/2.0/TLS 192.0.2.10:5061;branch=z9hG4bK776asdhdt",
        "Max-Forwards: 70",
        "From: <sip:+33639980001@sip.example.com>;tag=1928301774",
        "To: <sip:+15550200000@wa.meta.vc>;tag=77",
        "Call-ID: a84b4c76e66710@sip.example.com",
        "CSeq: 314160 BYE",
        "Content-Length: 0",
        "",
        "",
    ].joined(separator: "\r\n")

    /// Feeds `bytes` in the given chunk sizes and collects every frame.
    func decode(_ bytes: [UInt8], chunks: [Int]) throws -> [SIPStreamFrame] {
        var decoder = SIPStreamDecoder()
        var buffer = ByteBuffer()
        var frames: [SIPStreamFrame] = []
        var offset = 0
        var i = 0
        while offset < bytes.count {
            let size = min(chunks[i % chunks.count], bytes.count - offset)
            buffer.writeBytes(bytes[offset..<(offset + size)])
            offset += size
            i += 1
            // Compact now and then, as ByteToMessageHandler does, so indices move under the decoder.
            if i % 3 == 0 { buffer.discardReadBytes() }
            while let frame = try decoder.next(&buffer) { frames.append(frame) }
        }
        return frames
    }

    func messages(_ frames: [SIPStreamFrame]) -> [SIPMessage] {
        frames.compactMap { if case .message(let m) = $0 { return m } else { return nil } }
    }

    @Test func wholeMessage() throws {
        let frames = try decode(Array(Self.invite.utf8), chunks: [Self.invite.utf8.count])
        let m = try #require(messages(frames).first?.request)
        #expect(m.method == .invite && m.body.readableBytes == 8)
        #expect(frames.count == 1)
    }

    @Test func byteByByte() throws {
        let bytes = Array((Self.invite + Self.bye).utf8)
        let msgs = messages(try decode(bytes, chunks: [1]))
        #expect(msgs.count == 2)
        #expect(msgs[0].request?.method == .invite && msgs[1].request?.method == .bye)
        #expect(msgs[0].body.getString(at: msgs[0].body.readerIndex, length: 8) == "v=0\r\ns=-")
    }

    @Test(arguments: [1, 2, 3, 7, 42, 1000])
    func randomChunks(seed: UInt64) throws {
        var rng = Seeded(seed)
        let stream = Array((Self.invite + Self.bye + "\r\n\r\n" + Self.invite + Self.bye).utf8)
        let chunks = (0..<64).map { _ in Int(rng.next() % 97) + 1 }
        let frames = try decode(stream, chunks: chunks)
        let msgs = messages(frames)
        #expect(msgs.map { $0.request?.method } == [.invite, .bye, .invite, .bye])
        #expect(frames.contains { if case .keepAlivePing = $0 { return true } else { return false } })
    }

    @Test func severalInOneRead() throws {
        let stream = Array(String(repeating: Self.bye, count: 5).utf8)
        #expect(messages(try decode(stream, chunks: [stream.count])).count == 5)
    }

    @Test func keepAlivePingBetweenMessages() throws {
        let frames = try decode(Array(("\r\n\r\n" + Self.bye + "\r\n").utf8), chunks: [3])
        guard case .keepAlivePing = frames.first else { Issue.record("expected a ping first"); return }
        #expect(messages(frames).count == 1)
    }

    @Test func missingContentLengthIsAnError() throws {
        let text = Self.bye.replacingOccurrences(of: "Content-Length: 0\r\n", with: "")
        #expect(throws: SIPParseError.self) { _ = try decode(Array(text.utf8), chunks: [10]) }
    }

    @Test func oversizedHeadIsAnError() throws {
        var decoder = SIPStreamDecoder(limits: SIPParserLimits(maxMessageSize: 512))
        var buffer = ByteBuffer(string: "INVITE sip:a@b SIP/2.0\r\nX-Junk: " + String(repeating: "a", count: 2000))
        do {
            _ = try decoder.next(&buffer)
            Issue.record("accepted an unbounded head")
        } catch {
            #expect(error.code == .messageTooLarge(limit: 512))
        }
    }

    @Test func tooManyHeadersIsAnError() throws {
        let many = (0..<300).map { "X-H\($0): v" }.joined(separator: "\r\n")
        let text = "OPTIONS sip:a@b SIP/2.0\r\n\(many)\r\nContent-Length: 0\r\n\r\n"
        var decoder = SIPStreamDecoder(limits: SIPParserLimits(maxMessageSize: 100_000))
        var buffer = ByteBuffer(string: text)
        do {
            _ = try decoder.next(&buffer)
            Issue.record("accepted 300 headers")
        } catch {
            #expect(error.code == .tooManyHeaders(limit: 256))
        }
    }

    /// Round trip: parse, serialize, parse again gives the same fields.
    @Test func roundTrip() throws {
        var buffer = ByteBuffer(string: Self.invite)
        let message = try #require(try SIPMessageParser.parseDatagram(buffer))
        buffer = SIPSerializer.bytes(message)
        let again = try #require(try SIPMessageParser.parseDatagram(buffer))
        #expect(again == message)
        #expect(SIPSerializer.text(message) == Self.invite)
    }
}

struct Seeded {
    var state: UInt64
    init(_ seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}
