import NIOCore

/// What the mock needs from a business's SDP offer, read in one pass over its bytes: the m-lines (how many,
/// video or not, the audio profile), the Opus 48000 and telephone-event payload types, and whether a
/// sha-256 fingerprint or an `a=crypto` line is there. The policy's SDP check and the 200 OK's answer both
/// use it, so an INVITE's offer is scanned once; the full `SessionDescription` is parsed only for offers
/// that ask for secure media.
public struct SDPOfferSummary: Sendable, Hashable {
    /// False when the body is empty.
    var present = false
    var mediaLines = 0
    var hasVideo = false
    /// The first m-line is `m=audio`.
    var firstIsAudio = false
    /// The profile of the first `m=audio` line (`RTP/AVP` when none).
    var audioProfile = "RTP/AVP"
    var opusPayloadType: Int?
    var dtmfPayloadType: Int?
    var hasOpus48000 = false
    /// G.711 offered: static payload 0 (PCMU) or 8 (PCMA) on the audio m-line, or by rtpmap.
    var hasPCMU = false
    var hasPCMA = false
    var hasCrypto = false
    var hasSHA256Fingerprint = false

    public init(_ body: ByteBuffer) {
        guard body.readableBytes > 0 else { return }
        present = true
        var sawAudio = false
        body.withUnsafeReadableBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            var start = 0
            while start < bytes.count {
                var end = start
                while end < bytes.count, bytes[end] != 0x0A, bytes[end] != 0x0D { end += 1 }
                if end > start { line(UnsafeBufferPointer(rebasing: bytes[start..<end]), sawAudio: &sawAudio) }
                start = end + 1
            }
        }
    }

    private mutating func line(_ l: UnsafeBufferPointer<UInt8>, sawAudio: inout Bool) {
        func starts(_ prefix: StaticString) -> Bool {
            guard l.count >= prefix.utf8CodeUnitCount else { return false }
            for i in 0..<prefix.utf8CodeUnitCount where l[i] != prefix.utf8Start[i] { return false }
            return true
        }
        if starts("m=") {
            mediaLines += 1
            if starts("m=video") { hasVideo = true }
            if mediaLines == 1 { firstIsAudio = starts("m=audio") }
            if starts("m=audio "), !sawAudio {
                sawAudio = true
                // m=audio <port> <profile> ...
                let fields = l.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: true)
                if fields.count >= 3 { audioProfile = String(decoding: fields[2], as: UTF8.self) }
                for format in fields.dropFirst(3) where format.count == 1 {
                    if format.first == UInt8(ascii: "0") { hasPCMU = true }
                    if format.first == UInt8(ascii: "8") { hasPCMA = true }
                }
            }
        } else if starts("a=rtpmap:") {
            let rest = l[(l.startIndex + 9)...]
            guard let space = rest.firstIndex(of: UInt8(ascii: " ")),
                  let number = Int(String(decoding: rest[..<space], as: UTF8.self)) else { return }
            let codec = String(decoding: rest[(space + 1)...], as: UTF8.self).lowercased()
            if codec.hasPrefix("opus/48000") {
                hasOpus48000 = true
                if opusPayloadType == nil { opusPayloadType = number }
            }
            if dtmfPayloadType == nil, codec.hasPrefix("telephone-event/8000") { dtmfPayloadType = number }
            if codec.hasPrefix("pcmu/8000") { hasPCMU = true }
            if codec.hasPrefix("pcma/8000") { hasPCMA = true }
        } else if starts("a=crypto:") {
            hasCrypto = true
        } else if starts("a=fingerprint:sha-256 ") {
            hasSHA256Fingerprint = true
        }
    }

    /// The G.711 codec the answer uses when the offer has no Opus: the first of `allowed` (the number's
    /// `additional_codecs`) that the offer carries, as (payload type, rtpmap name); nil: none.
    func g711(allowed: [String]) -> (payloadType: Int, name: String)? {
        for codec in allowed {
            if codec == "PCMU", hasPCMU { return (0, "PCMU/8000") }
            if codec == "PCMA", hasPCMA { return (8, "PCMA/8000") }
        }
        return nil
    }

    /// True when the offer asks for secure media (DTLS or SDES profiles), for which the mock parses it fully.
    var asksForSecureMedia: Bool { audioProfile.hasPrefix("UDP/TLS/RTP/SAVP") || audioProfile == "RTP/SAVP" }
}
