/// The rows of `calls.csv`, formatted straight into bytes: a load run writes one per call, so no
/// `String(format:)` and no intermediate strings.
enum CallsCSV {
    static let header = "index,call_id,callee,intended_start_ms,actual_start_ms,status,reason,setup_ms,post_dial_ms,auth_ms,hangup,media,media_start_ms,clipped_ms,client_hello_retransmissions,dtls_handshake_ms,ice_ms,direction,duration_ms,expected,as_expected,outcome,teardown,end\n"

    /// Appends one row (with its newline).
    static func append(_ r: CallRecord, to out: inout [UInt8]) {
        int(r.index, &out); comma(&out)
        text(r.callID, &out); comma(&out)
        text(r.callee, &out); comma(&out)
        millis(r.intendedStartMs, &out); comma(&out)
        millis(r.actualStartMs, &out); comma(&out)
        int(r.status, &out); comma(&out)
        text(r.reason, &out); comma(&out)
        millis(r.setupMs, &out); comma(&out)
        millis(r.postDialMs, &out); comma(&out)
        millis(r.authMs, &out); comma(&out)
        text(r.hangup, &out); comma(&out)
        text(r.mediaSecurity, &out); comma(&out)
        millis(r.mediaStartMs, &out); comma(&out)
        millis(r.clippedMs, &out); comma(&out)
        if let n = r.clientHelloRetransmissions { int(n, &out) }
        comma(&out)
        millis(r.dtlsHandshakeMs, &out); comma(&out)
        millis(r.iceMs, &out); comma(&out)
        text(r.direction, &out); comma(&out)
        millis(r.durationMs, &out); comma(&out)
        text(r.expected, &out); comma(&out)
        if let met = r.expectationMet { text(met ? "yes" : "no", &out) }
        comma(&out)
        text(r.outcome, &out); comma(&out)
        text(r.teardown, &out); comma(&out)
        text(r.end, &out)
        out.append(UInt8(ascii: "\n"))
    }

    @inline(__always) static func comma(_ out: inout [UInt8]) { out.append(UInt8(ascii: ",")) }

    /// A field, quoted as RFC 4180 asks when it holds a comma, a quote or a line break.
    static func text(_ s: String, _ out: inout [UInt8]) {
        let needsQuotes = s.utf8.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }
        guard needsQuotes else { out.append(contentsOf: s.utf8); return }
        out.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            if byte == UInt8(ascii: "\"") { out.append(byte) }
            out.append(byte)
        }
        out.append(UInt8(ascii: "\""))
    }

    static func int(_ value: Int, _ out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var v = value.magnitude
        let start = out.count
        repeat {
            out.append(UInt8(ascii: "0") + UInt8(v % 10))
            v /= 10
        } while v > 0
        out[start...].reverse()
    }

    /// Milliseconds with three decimals (microsecond resolution), empty when absent.
    static func millis(_ value: Double?, _ out: inout [UInt8]) {
        guard let value, value.isFinite else { return }
        let micros = Int((value * 1000).rounded())
        if micros < 0 { out.append(UInt8(ascii: "-")) }
        let m = micros.magnitude
        int(Int(m / 1000), &out)
        out.append(UInt8(ascii: "."))
        let frac = Int(m % 1000)
        out.append(UInt8(ascii: "0") + UInt8(frac / 100))
        out.append(UInt8(ascii: "0") + UInt8(frac / 10 % 10))
        out.append(UInt8(ascii: "0") + UInt8(frac % 10))
    }
}
