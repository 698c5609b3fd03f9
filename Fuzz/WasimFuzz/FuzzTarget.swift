import Foundation
import LoadEngine
import MetaMock
import NIOCore
import SIPAuth
import SIPCore
import WasimMedia

/// What `wasim-fuzz` feeds with fuzzed bytes: every parser that reads what a peer or a user sends. Each
/// run must end without a crash, a sanitizer report or a hang; a parse error is a normal outcome.
enum FuzzTarget: String, CaseIterable, Sendable {
    /// `SIPStreamDecoder` over TCP/TLS bytes (one buffer, then the same bytes in small reads), and every
    /// header accessor of the messages it frames.
    case sipStream = "sip-stream"
    /// `SIPMessageParser.parseDatagram`, validation, accessors, and a serialize-and-parse-again round trip.
    case sipDatagram = "sip-datagram"
    /// SIP URIs, name-addr headers and Via values.
    case sipURI = "sip-uri"
    /// Digest `Authorization`/`Proxy-Authorization` credentials and `WWW-`/`Proxy-Authenticate` challenges.
    case digest
    /// SDP: the full parser (`SessionDescription`) and the mock's one-pass offer reader.
    case sdp
    /// STUN messages (ICE connectivity checks on the media port).
    case stun
    /// Scenario files (YAML) through the scenario loader.
    case scenario
    /// Mock configuration files (YAML) through the mock's loader.
    case mockConfig = "mock-config"

    /// Runs one input.
    func run(_ data: [UInt8]) {
        switch self {
        case .sipStream: Self.sipStream(data)
        case .sipDatagram: Self.sipDatagram(data)
        case .sipURI: Self.sipURI(data)
        case .digest: Self.digest(data)
        case .sdp: Self.sdp(data)
        case .stun: _ = try? STUNMessage.decode(data)
        case .scenario: _ = try? ScenarioLoader.parse(String(decoding: data, as: UTF8.self), file: "fuzz.yaml")
        case .mockConfig: _ = try? MockConfigLoader.parse(String(decoding: data, as: UTF8.self), file: "fuzz.yaml")
        }
    }

    /// Reads every header a server reads of a message.
    static func touch(_ message: SIPMessage) {
        _ = try? SIPMessageValidator.validate(message)
        switch message {
        case .request(let request):
            touchHeaders(request)
            _ = request.uri.description
        case .response(let response):
            touchHeaders(response)
        }
        _ = SIPSerializer.bytes(message)
    }

    static func touchHeaders(_ carrier: some SIPHeaderCarrier) {
        _ = carrier.callID
        _ = try? carrier.cseq()
        _ = try? carrier.from()
        _ = try? carrier.to()
        _ = try? carrier.vias()
        _ = try? carrier.contacts()
        _ = carrier.topBranch()
    }

    static func sipStream(_ data: [UInt8]) {
        let limits = SIPParserLimits(maxMessageSize: 4096, maxHeaderCount: 64, maxLineLength: 1024)
        var whole = ByteBuffer(bytes: data)
        var decoder = SIPStreamDecoder(limits: limits)
        var frames = 0
        while frames < 64, let frame = try? decoder.next(&whole) {
            frames += 1
            if case .message(let message) = frame { touch(message) }
        }
        // The same bytes in reads of 7: framing must not depend on how the stream was cut.
        var split = SIPStreamDecoder(limits: limits)
        var buffer = ByteBuffer()
        var offset = 0
        reading: while offset < data.count {
            let end = min(data.count, offset + 7)
            buffer.writeBytes(data[offset..<end])
            offset = end
            while true {
                do {
                    guard let frame = try split.next(&buffer) else { continue reading }
                    if case .message(let message) = frame { _ = message.headers.count }
                } catch {
                    break reading // a connection closes on a framing error
                }
            }
        }
    }

    static func sipDatagram(_ data: [UInt8]) {
        guard let message = try? SIPMessageParser.parseDatagram(ByteBuffer(bytes: data)) else { return }
        touch(message)
        // What wasim writes of a message it read must read back.
        let written = SIPSerializer.bytes(message)
        guard (try? SIPMessageParser.parseDatagram(written)) != nil else {
            fatalError("a parsed message did not parse again once serialized: \(String(buffer: written))")
        }
    }

    static func sipURI(_ data: [UInt8]) {
        let text = String(decoding: data, as: UTF8.self)
        if let uri = try? SIPURI(text) {
            _ = uri.description
            _ = uri.userNumber
            guard (try? SIPURI(uri.description)) != nil else { fatalError("URI did not parse again: \(uri.description)") }
        }
        _ = try? SIPAddress(text)
        _ = try? SIPVia(parsing: Substring(text))
        _ = SIPURI.percentDecode(text)
    }

    static func digest(_ data: [UInt8]) {
        let text = Substring(String(decoding: data, as: UTF8.self))
        if let credentials = try? DigestCredentials(parsing: text) {
            _ = credentials.headerValue
            var server = DigestServer(policy: DigestServerPolicy(realm: "wa.meta.vc"), secret: [1, 2, 3])
            _ = server.verify(credentials, method: .invite, password: "p", now: 1)
        }
        _ = try? DigestChallenge(parsing: text)
    }

    static func sdp(_ data: [UInt8]) {
        _ = try? SessionDescription(parsing: String(decoding: data, as: UTF8.self))
        _ = SDPOfferSummary(ByteBuffer(bytes: data))
    }
}
