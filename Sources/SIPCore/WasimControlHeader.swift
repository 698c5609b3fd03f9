/// Headers (a SIP-level convention shared by wasim's user agents and its mock) by which wasim's scenario runner tells its own peers what a call is to do, in-band, so it works
/// the same with the embedded mock, an external `wasim mock`, or across machines. Meta's real endpoint
/// ignores unknown headers; the mock honours these unless `sip.wasim_headers: false`.
public enum WasimControlHeader {
    /// Seconds after the answer at which the far side hangs up: on a BIC INVITE, the WhatsApp user (the
    /// mock sends Meta's BYE); on the mock's UIC INVITE to wasim's business side, the business.
    public static let hangUpAfter = "X-Wasim-Hangup-After"

    /// A duration as the header carries it: seconds with millisecond precision.
    public static func seconds(_ value: Double) -> String {
        let ms = Int((max(0, value) * 1000).rounded())
        let fraction = String(ms % 1000)
        return "\(ms / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }

    /// Parses a header value of `seconds(_:)`; nil when it is not a non-negative number of seconds up to a day.
    public static func parseSeconds(_ text: Substring) -> Double? {
        guard let v = Double(text.trimmingWhitespace()), v >= 0, v <= 86_400 else { return nil }
        return v
    }
}
