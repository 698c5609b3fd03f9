/// A URI as used in SIP: a `SIP-URI`/`SIPS-URI` (RFC 3261 §19.1) parsed into parts, a `tel` or any other
/// `absoluteURI`, kept opaque.
///
///     sip:+1234;tgrp=wacall;trunk-context=byoc.example.com@sip.example.com:5061;transport=tls?Subject=x
///         \_____ user (with RFC 4904 user parameters) ____/ \___ host ___/ port \__ params __/ headers
public struct SIPURI: Hashable, Sendable, CustomStringConvertible {
    /// Lowercased scheme: `sip`, `sips`, `tel`, or another.
    public var scheme: String
    /// The user part as written, escapes and user parameters included.
    public var user: String?
    public var password: String?
    public var host: String
    public var port: Int?
    public var parameters: SIPParameters
    /// The `?headers` part, raw, without the `?`.
    public var headers: String?
    /// For a scheme other than sip/sips: everything after the colon.
    public var opaque: String?

    public init(scheme: String = "sip", user: String? = nil, host: String, port: Int? = nil,
                parameters: SIPParameters = SIPParameters(), headers: String? = nil)
    {
        self.scheme = scheme
        self.user = user
        self.password = nil
        self.host = host
        self.port = port
        self.parameters = parameters
        self.headers = headers
        self.opaque = nil
    }

    public var isSIP: Bool { opaque == nil }
    public var isSecure: Bool { scheme == "sips" }

    /// The user part before any `;` user parameter (RFC 4904 puts `tgrp`/`trunk-context` there).
    public var userNumber: Substring? {
        guard let user else { return nil }
        return user.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first
    }

    /// Parameters inside the user part (`;tgrp=wacall;trunk-context=...`).
    public var userParameters: SIPParameters {
        guard let user, let semi = user.firstIndex(of: ";") else { return SIPParameters() }
        var scanner = SIPValueScanner(user[semi...])
        return (try? SIPParameters.parse(&scanner, allowNames: SIPGrammar.uriParamTable)) ?? SIPParameters()
    }

    /// The user part with %-escapes resolved.
    public var unescapedUser: String? { user.map(SIPURI.percentDecode) }

    /// The `transport` URI parameter, lowercased.
    public var transport: String? { parameters.value("transport")?.lowercased() }

    /// True when the host is an IPv4 or IPv6 literal.
    public var hostIsIPLiteral: Bool {
        if host.hasPrefix("[") { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { SIPGrammar.parseDecimal($0, max: 255) != nil }
    }

    public var description: String {
        var out = scheme + ":"
        if let opaque { return out + opaque }
        if let user {
            out += user
            if let password { out += ":" + password }
            out += "@"
        }
        out += host
        if let port { out += ":\(port)" }
        parameters.write(to: &out)
        if let headers { out += "?" + headers }
        return out
    }

    /// Parses a URI. `sip`/`sips` URIs are checked against RFC 3261 §25.1; other schemes must only have a
    /// valid scheme token and no whitespace.
    public init(parsing text: Substring) throws(SIPGrammarError) {
        guard let colon = text.utf8.firstIndex(of: UInt8(ascii: ":")) else { throw .invalid("URI has no scheme") }
        let schemeText = Substring(text.utf8[text.utf8.startIndex..<colon])
        guard let first = schemeText.utf8.first, SIPGrammar.isAlpha(first),
              schemeText.utf8.allSatisfy({ SIPGrammar.isAlphanumeric($0) || "+-.".utf8.contains($0) })
        else { throw .invalid("invalid URI scheme '\(schemeText)'") }
        let rest = Substring(text.utf8[text.utf8.index(after: colon)...])
        guard !rest.utf8.contains(where: { SIPGrammar.isWhitespace($0) || $0 < 0x20 }) else {
            throw .invalid("whitespace inside URI")
        }
        scheme = schemeText.lowercased()
        parameters = SIPParameters()
        headers = nil
        password = nil
        port = nil
        user = nil
        guard scheme == "sip" || scheme == "sips" else {
            guard !rest.isEmpty else { throw .invalid("empty URI after scheme") }
            opaque = String(rest)
            host = ""
            return
        }
        opaque = nil
        var hostPart = rest
        if let at = rest.utf8.firstIndex(of: UInt8(ascii: "@")) {
            let userinfo = Substring(rest.utf8[rest.utf8.startIndex..<at])
            hostPart = Substring(rest.utf8[rest.utf8.index(after: at)...])
            var userText = userinfo
            if let pc = userinfo.utf8.firstIndex(of: UInt8(ascii: ":")) {
                userText = Substring(userinfo.utf8[userinfo.utf8.startIndex..<pc])
                password = String(Substring(userinfo.utf8[userinfo.utf8.index(after: pc)...]))
            }
            guard !userText.isEmpty, userText.utf8.allSatisfy({ SIPGrammar.userTable[Int($0)] }) else {
                throw .invalid("invalid user part in URI")
            }
            try SIPURI.checkEscapes(userText)
            user = String(userText)
        }
        var scanner = SIPValueScanner(hostPart)
        if scanner.peek == UInt8(ascii: "[") {
            let v6 = scanner.read(until: UInt8(ascii: "]"))
            guard scanner.consume(UInt8(ascii: "]")), v6.utf8.count > 2 else { throw .invalid("bad IPv6 reference") }
            host = String(v6) + "]"
        } else {
            guard let h = scanner.read(while: SIPGrammar.hostTable) else { throw .invalid("URI has no host") }
            host = String(h)
        }
        if scanner.consume(UInt8(ascii: ":")) {
            guard let digits = scanner.read(while: SIPGrammar.tokenTable),
                  let value = SIPGrammar.parseDecimal(digits, max: 65535)
            else { throw .invalid("invalid port in URI") }
            port = Int(value)
        }
        parameters = try SIPParameters.parse(&scanner, allowNames: SIPGrammar.uriParamTable)
        if scanner.consume(UInt8(ascii: "?")) {
            let h = scanner.rest
            guard h.utf8.allSatisfy({ SIPGrammar.uriHeaderTable[Int($0)] || $0 == UInt8(ascii: "=") || $0 == UInt8(ascii: "&") })
            else { throw .invalid("invalid URI headers") }
            headers = String(h)
        } else if !scanner.isAtEnd {
            throw .invalid("unexpected '\(scanner.rest)' in URI")
        }
    }

    public init(_ text: String) throws(SIPGrammarError) { try self.init(parsing: Substring(text)) }

    static func checkEscapes(_ text: Substring) throws(SIPGrammarError) {
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%") {
                guard i + 2 < bytes.count, SIPGrammar.isHexDigit(bytes[i + 1]), SIPGrammar.isHexDigit(bytes[i + 2])
                else { throw .invalid("bad %-escape in URI") }
                i += 3
            } else {
                i += 1
            }
        }
    }

    /// Resolves `%HH` escapes (RFC 3261 §19.1.4 compares URIs after unescaping).
    public static func percentDecode(_ text: String) -> String {
        guard text.utf8.contains(UInt8(ascii: "%")) else { return text }
        var out: [UInt8] = []
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%"), i + 2 < bytes.count,
               let v = UInt8(String(decoding: bytes[(i + 1)...(i + 2)], as: UTF8.self), radix: 16)
            {
                out.append(v)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
