import Foundation
import NIOCore
import SIPTransport

/// The SDP of the mock's 200 OK, shaped like Meta's BIC answer (spec §5.4): Opus 48000/2 and
/// telephone-event 8000 with the offerer's payload numbers mirrored, 20 ms ptime, rtcp-mux, one SSRC.
/// Media itself (ICE, DTLS-SRTP, SDES) is the media layer's; this only writes the description.
enum MockSessionDescription {
    static func answer(to offer: ByteBuffer, host: String, sessionMillis: UInt64, random: inout FastRandom) -> String {
        answer(to: SDPOfferSummary(offer), host: host, sessionMillis: sessionMillis, random: &random)
    }

    /// With `g711` (an offer without Opus, G.711 allowed by `additional_codecs`) the answer carries that codec.
    static func answer(to offer: SDPOfferSummary, host: String, sessionMillis: UInt64, g711: (payloadType: Int, name: String)? = nil,
                       random: inout FastRandom) -> String
    {
        let opus = offer.opusPayloadType ?? 111, dtmf = offer.dtmfPayloadType ?? 126
        let profile = offer.audioProfile
        let secure = profile.hasPrefix("UDP/TLS/RTP/SAVPF") ? "UDP/TLS/RTP/SAVPF" : profile.contains("RTP/SAVP") ? "RTP/SAVP" : "RTP/AVP"
        let ssrc = UInt32(truncatingIfNeeded: random.next() | 1)
        let o = g711.map { String($0.payloadType) } ?? String(opus), d = String(dtmf)
        // Written in one string (a busy mock answers thousands of calls a second).
        var sdp = "v=0\r\no=- "
        sdp.reserveCapacity(560)
        sdp += String(sessionMillis)
        sdp += " 2 IN IP4 "
        sdp += host
        sdp += "\r\ns=-\r\nt=0 0\r\na=group:BUNDLE audio\r\nm=audio 3480 "
        sdp += secure
        sdp += " " + o + " " + d + "\r\nc=IN IP4 " + host
        sdp += "\r\na=rtcp:9 IN IP4 0.0.0.0\r\na=mid:audio\r\na=sendrecv\r\na=msid:" + random.uuid() + " WhatsAppTrack1\r\na=rtcp-mux\r\na=rtpmap:" + o
        if let g711 {
            sdp += " " + g711.name + "\r\na=rtpmap:" + d
        } else {
            sdp += " opus/48000/2\r\na=fmtp:" + o
            sdp += " maxaveragebitrate=20000;maxplaybackrate=16000;minptime=20;sprop-maxcapturerate=16000;useinbandfec=1\r\na=rtpmap:" + d
        }
        sdp += " telephone-event/8000\r\na=maxptime:20\r\na=ptime:20\r\na=ssrc:" + String(ssrc) + " cname:WhatsAppAudioStream1\r\n"
        return sdp
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

    static func offer(host: String, port: Int, keyExchange: String, sessionMillis: UInt64, fingerprint: String,
                      ipv6Candidate: String? = nil, random: inout FastRandom) -> UICOffer
    {
        let session = sessionMillis
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
                  ] + (ipv6Candidate.map { ["a=candidate:\(random.next() % 4_000_000_000) 1 udp 2122262783 \($0) \(port) typ host generation 0 network-cost 50"] } ?? []) + [
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
}
