import NIOCore

/// Meta's SDP validation of a BIC offer (spec §5.1, §10 step 10: "SDP valid → otherwise 403"). The exact
/// checks are undocumented, so the depth is a setting:
/// - `off`: anything goes;
/// - `basic` (default): an SDP body with exactly one audio m-line and no video ("one m-line and one audio
///   track only", "video m-lines are not supported");
/// - `strict`: also Opus 48000/2 offered (or a codec of the number's `additional_codecs`: PCMA, PCMU), and the profile of the number's key exchange: `UDP/TLS/RTP/SAVPF`
///   with a sha-256 `a=fingerprint` for DTLS ("No fingerprint found in SDP"), `RTP/SAVP` with `a=crypto`
///   for SDES.
public enum MetaSDPCheck: String, Sendable, Hashable, CaseIterable {
    case off, basic, strict

    /// Why the offer is refused, or nil when it passes.
    public func problem(in body: ByteBuffer, keyExchange: String, additionalCodecs: [String] = []) -> String? {
        problem(in: SDPOfferSummary(body), keyExchange: keyExchange, additionalCodecs: additionalCodecs)
    }

    func problem(in offer: SDPOfferSummary, keyExchange: String, additionalCodecs: [String] = []) -> String? {
        guard self != .off else { return nil }
        guard offer.present else { return "no SDP offer in the INVITE" }
        if offer.hasVideo { return "video m-lines are not supported" }
        guard offer.mediaLines == 1, offer.firstIsAudio else {
            return "exactly one audio m-line is supported (found \(offer.mediaLines) m-lines)"
        }
        guard self == .strict else { return nil }
        if !offer.hasOpus48000, offer.g711(allowed: additionalCodecs) == nil {
            return additionalCodecs.isEmpty ? "Opus 48000/2 is not offered"
                : "neither Opus 48000/2 nor \(additionalCodecs.joined(separator: " or ")) (additional_codecs) is offered"
        }
        let profile = offer.audioProfile
        if keyExchange == "SDES" {
            guard profile == "RTP/SAVP" else { return "SDES needs RTP/SAVP, offered \(profile)" }
            guard offer.hasCrypto else { return "no a=crypto line for SDES" }
        } else {
            guard profile == "UDP/TLS/RTP/SAVPF" else { return "DTLS needs UDP/TLS/RTP/SAVPF, offered \(profile)" }
            guard offer.hasSHA256Fingerprint else { return "No fingerprint found in SDP" }
        }
        return nil
    }
}
