import Foundation
import NIOCore
import SIPTransport
import Testing
@testable import MetaMock

/// The SDP Meta writes: the BIC answer mirrors the offer's payload numbers (spec §5.4), the UIC offer has the
/// DTLS or SDES shape of spec §5.2/§5.3.
struct SessionDescriptionTests {
    @Test func answerMirrorsPayloadTypes() {
        let offer = "v=0\r\nm=audio 4000 RTP/SAVP 107 101 0\r\na=rtpmap:107 opus/48000/2\r\na=rtpmap:101 telephone-event/8000\r\na=rtpmap:0 PCMU/8000\r\n"
        var random = FastRandom(seed: 7)
        let answer = MockSessionDescription.answer(to: ByteBuffer(string: offer), host: "157.240.19.130", sessionMillis: 1_764_000_000_000, random: &random)
        #expect(answer.contains("m=audio 3480 RTP/SAVP 107 101\r\n"))
        #expect(answer.contains("a=rtpmap:107 opus/48000/2") && answer.contains("a=rtpmap:101 telephone-event/8000"))
        #expect(!answer.contains("PCMU") && answer.contains("o=- 1764000000000 2 IN IP4 157.240.19.130"))
    }

    /// The answer keeps the offer's profile: WebRTC's UDP/TLS/RTP/SAVPF, SDES's RTP/SAVP, plain RTP/AVP; and
    /// falls back to Meta's numbers when the offer maps no Opus or telephone-event (LF-only lines too).
    @Test func answerKeepsTheOfferedProfile() {
        var random = FastRandom(seed: 7)
        func answer(_ offer: String) -> String {
            MockSessionDescription.answer(to: ByteBuffer(string: offer), host: "h", sessionMillis: 1, random: &random)
        }
        #expect(answer("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 OPUS/48000/2\r\n").contains("m=audio 3480 UDP/TLS/RTP/SAVPF 111 126\r\n"))
        #expect(answer("v=0\nm=audio 9 RTP/AVP 0 96\na=rtpmap:96 telephone-event/8000\n").contains("m=audio 3480 RTP/AVP 111 96\r\n"))
        #expect(answer("v=0\r\n").contains("m=audio 3480 RTP/AVP 111 126\r\n"))
    }

    @Test func uicOffersHaveMetasShape() {
        var random = FastRandom(seed: 42)
        let dtls = MockSessionDescription.offer(host: "57.144.135.35", port: 3480, keyExchange: "DTLS", sessionMillis: 1_700_000_000_000, fingerprint: "AB:CD", random: &random).sdp
        #expect(dtls.contains("a=ice-lite\r\nm=audio 3480 UDP/TLS/RTP/SAVPF 111 126\r\n"))
        #expect(dtls.contains("a=fingerprint:sha-256 AB:CD\r\na=setup:actpass"))
        let ufrag = dtls.split(separator: "\r\n").first { $0.hasPrefix("a=ice-ufrag:") }?.dropFirst(12)
        #expect(ufrag?.count == 16)
        let pwd = dtls.split(separator: "\r\n").first { $0.hasPrefix("a=ice-pwd:") }?.dropFirst(10)
        #expect(pwd?.count == 24 && pwd?.hasSuffix("==") == true)
        let sdes = MockSessionDescription.offer(host: "57.144.135.35", port: 3480, keyExchange: "SDES", sessionMillis: 1_700_000_000_000, fingerprint: "AB:CD", random: &random).sdp
        #expect(sdes.contains("m=audio 3480 RTP/SAVP 111 126") && sdes.contains("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"))
        #expect(!sdes.contains("ice-") && !sdes.contains("fingerprint") && !sdes.contains("rtcp-fb"))
    }

    /// Meta's DTLS offer has exactly one IPv4 and one IPv6 host candidate on the same port (spec §5.2); its
    /// BIC answer carries `a=msid:<uuid> WhatsAppTrack1` (spec §5.4).
    @Test func ipv6CandidateAndMsid() {
        var random = FastRandom(seed: 7)
        let dtls = MockSessionDescription.offer(host: "57.144.135.35", port: 3480, keyExchange: "DTLS", sessionMillis: 1,
                                                fingerprint: "AB:CD", ipv6Candidate: "2a03:2880:f343:131:face:b00c:0:699c", random: &random).sdp
        let candidates = dtls.split(separator: "\r\n").filter { $0.hasPrefix("a=candidate:") }
        #expect(candidates.count == 2, "\(candidates)")
        #expect(candidates.first?.hasSuffix(" 1 udp 2122260223 57.144.135.35 3480 typ host generation 0 network-cost 50") == true)
        #expect(candidates.last?.contains(" 1 udp 2122262783 2a03:2880:f343:131:face:b00c:0:699c 3480 typ host generation 0 network-cost 50") == true)
        let sdes = MockSessionDescription.offer(host: "57.144.135.35", port: 3480, keyExchange: "SDES", sessionMillis: 1,
                                                fingerprint: "AB:CD", ipv6Candidate: "2a03:2880:f343:131:face:b00c:0:699c", random: &random).sdp
        #expect(!sdes.contains("a=candidate"))
        let answer = MockSessionDescription.answer(to: ByteBuffer(string: "v=0\r\nm=audio 9 RTP/SAVP 111\r\n"), host: "57.144.135.35",
                                                   sessionMillis: 1, random: &random)
        #expect(answer.range(of: #"a=msid:[0-9a-f-]{36} WhatsAppTrack1\r\n"#, options: .regularExpression) != nil, "\(answer)")
    }
}
