import Foundation
import NIOCore

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

    /// The payload type an offer maps to `codec` (case-insensitive), from its `a=rtpmap` lines.
    static func payloadType(in sdp: String, codec: String) -> Int? {
        for line in sdp.split(whereSeparator: { $0 == "\r" || $0 == "\n" }) where line.hasPrefix("a=rtpmap:") {
            let parts = line.dropFirst(9).split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[1].lowercased().hasPrefix(codec.lowercased()) { return Int(parts[0]) }
        }
        return nil
    }
}
