import Foundation
import NIOCore
import SIPTransport

/// The SDP of the mock's 200 OK, shaped like Meta's BIC answer (spec §5.4): Opus 48000/2 and
/// telephone-event 8000 with the offerer's payload numbers mirrored, 20 ms ptime, rtcp-mux, one SSRC.
/// Media itself (ICE, DTLS-SRTP, SDES) is the media layer's; this only writes the description.
enum MockSessionDescription {
    static func answer(to offer: ByteBuffer, host: String) -> String {
        let text = offer.getString(at: offer.readerIndex, length: offer.readableBytes) ?? ""
        let opus = payloadType(in: text, codec: "opus/48000") ?? 111
        let dtmf = payloadType(in: text, codec: "telephone-event/8000") ?? 126
        let secure = text.contains("RTP/SAVP") ? (text.contains("UDP/TLS/RTP/SAVPF") ? "UDP/TLS/RTP/SAVPF" : "RTP/SAVP") : "RTP/AVP"
        let session = UInt64(Date().timeIntervalSince1970 * 1000)
        let ssrc = UInt32.random(in: 1...UInt32.max)
        return [
            "v=0", "o=- \(session) 2 IN IP4 \(host)", "s=-", "t=0 0", "a=group:BUNDLE audio",
            "m=audio 3480 \(secure) \(opus) \(dtmf)", "c=IN IP4 \(host)", "a=rtcp:9 IN IP4 0.0.0.0", "a=mid:audio",
            "a=sendrecv", "a=rtcp-mux", "a=rtpmap:\(opus) opus/48000/2",
            "a=fmtp:\(opus) maxaveragebitrate=20000;maxplaybackrate=16000;minptime=20;sprop-maxcapturerate=16000;useinbandfec=1",
            "a=rtpmap:\(dtmf) telephone-event/8000", "a=maxptime:20", "a=ptime:20", "a=ssrc:\(ssrc) cname:WhatsAppAudioStream1", "",
        ].joined(separator: "\r\n")
    }

    /// Meta's UIC offer (spec §5.2 for DTLS, §5.3 for SDES): session id in epoch milliseconds, ICE-lite with
    /// one host candidate, a 16-character ufrag and a 24-character base64 pwd, a sha-256 fingerprint and
    /// `setup:actpass`; or `RTP/SAVP` with an `a=crypto` line (AES_CM_128_HMAC_SHA1_80, a 30-byte key).
    /// A UIC offer and the secrets it carries (for Meta's media leg).
    struct UICOffer {
        var sdp: String
        var ufrag: String?
        var pwd: String?
        var sdesKey: [UInt8]?
    }

    static func offer(host: String, port: Int, keyExchange: String, fingerprint: String, random: inout FastRandom) -> UICOffer {
        let session = UInt64(Date().timeIntervalSince1970 * 1000)
        let ssrc = UInt32(truncatingIfNeeded: random.next() | 1)
        let stream = random.uuid()
        var lines = ["v=0", "o=- \(session) 2 IN IP4 \(host)", "s=-", "t=0 0", "a=group:BUNDLE audio", "a=msid-semantic: WMS \(stream)"]
        var result = UICOffer(sdp: "")
        if keyExchange == "SDES" {
            let key = randomBytes(30, &random)
            result.sdesKey = key
            lines += ["m=audio \(port) RTP/SAVP 111 126", "c=IN IP4 \(host)", "a=rtcp:9 IN IP4 0.0.0.0"]
            lines.append("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:\(Data(key).base64EncodedString())")
        } else {
            let alphanumerics = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
            let ufrag = String((0..<16).map { _ in alphanumerics[Int(random.next() % UInt64(alphanumerics.count))] })
            let pwd = Data(randomBytes(16, &random)).base64EncodedString()
            result.ufrag = ufrag
            result.pwd = pwd
            lines.insert("a=ice-lite", at: 6)
            lines += ["m=audio \(port) UDP/TLS/RTP/SAVPF 111 126", "c=IN IP4 \(host)", "a=rtcp:9 IN IP4 0.0.0.0",
                      "a=candidate:\(random.next() % 4_000_000_000) 1 udp 2122260223 \(host) \(port) typ host generation 0 network-cost 50",
                      "a=ice-ufrag:\(ufrag)", "a=ice-pwd:\(pwd)",
                      "a=fingerprint:sha-256 \(fingerprint)", "a=setup:actpass"]
        }
        lines += ["a=mid:audio", "a=sendrecv", "a=msid:\(stream) WhatsAppTrack1", "a=rtcp-mux", "a=rtpmap:111 opus/48000/2"]
        if keyExchange != "SDES" { lines.append("a=rtcp-fb:111 transport-cc") }
        lines += ["a=fmtp:111 maxaveragebitrate=20000;maxplaybackrate=16000;minptime=20;sprop-maxcapturerate=16000;useinbandfec=1",
                  "a=rtpmap:126 telephone-event/8000", "a=maxptime:20", "a=ptime:20", "a=ssrc:\(ssrc) cname:WhatsAppAudioStream1", ""]
        result.sdp = lines.joined(separator: "\r\n")
        return result
    }

    private static func randomBytes(_ count: Int, _ random: inout FastRandom) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }

    /// The payload type an offer maps to `codec` (case-insensitive), from its `a=rtpmap` lines.
    static func payloadType(in sdp: String, codec: String) -> Int? {
        for line in sdp.split(whereSeparator: \.isNewline) where line.hasPrefix("a=rtpmap:") {
            let parts = line.dropFirst(9).split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[1].lowercased().hasPrefix(codec.lowercased()) { return Int(parts[0]) }
        }
        return nil
    }
}
