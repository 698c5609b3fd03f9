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
        return (try? SIPValueScanner.scan(user[semi...]) { scanner throws(SIPGrammarError) in
            try SIPParameters.parse(&scanner, allowNames: SIPGrammar.uriParamTable)
        }) ?? SIPParameters()
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
        self = try SIPValueScanner.scan(text) { scanner throws(SIPGrammarError) in try SIPURI(scanning: &scanner) }
    }

    /// Characters of a scheme after its first letter: alphanum and `+-.`.
    static let schemeTable = SIPCharacterClass(low: 0x03FF_6800_0000_0000, high: 0x07FF_FFFE_07FF_FFFE)

    init(scanning scanner: inout SIPValueScanner) throws(SIPGrammarError) {
        let bytes = scanner.bytes
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { throw .invalid("URI has no scheme") }
        guard colon > 0, SIPGrammar.isAlpha(bytes[0]), bytes[1..<colon].allSatisfy({ SIPURI.schemeTable.contains($0) }) else {
            throw .invalid("invalid URI scheme '\(scanner.slice(0, colon))'")
        }
        for byte in bytes[(colon + 1)...] where SIPGrammar.isWhitespace(byte) || byte < 0x20 {
            throw .invalid("whitespace inside URI")
        }
        scheme = SIPURI.lowercasedScheme(bytes[0..<colon], scanner.source)
        parameters = SIPParameters()
        headers = nil
        password = nil
        port = nil
        user = nil
        guard scheme == "sip" || scheme == "sips" else {
            guard colon + 1 < bytes.count else { throw .invalid("empty URI after scheme") }
            opaque = String(scanner.slice(colon + 1, bytes.count))
            host = ""
            return
        }
        opaque = nil
        scanner.index = colon + 1
        // userinfo: everything up to an '@' (the user part may hold ';' and '?', so look for '@' first).
        if let at = bytes[scanner.index...].firstIndex(of: UInt8(ascii: "@")) {
            let userStart = scanner.index
            var userEnd = at
            if let pc = bytes[userStart..<at].firstIndex(of: UInt8(ascii: ":")) {
                userEnd = pc
                password = String(scanner.slice(pc + 1, at))
            }
            guard userEnd > userStart, bytes[userStart..<userEnd].allSatisfy({ SIPGrammar.userTable.contains($0) }) else {
                throw .invalid("invalid user part in URI")
            }
            try SIPURI.checkEscapes(bytes[userStart..<userEnd])
            user = String(scanner.slice(userStart, userEnd))
            scanner.index = at + 1
        }
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
            guard h.utf8.allSatisfy({ SIPGrammar.uriHeaderTable.contains($0) || $0 == UInt8(ascii: "=") || $0 == UInt8(ascii: "&") })
            else { throw .invalid("invalid URI headers") }
            headers = String(h)
        } else if !scanner.isAtEnd {
            throw .invalid("unexpected '\(scanner.rest)' in URI")
        }
    }

    /// The scheme lowercased: the common ones without making a string.
    static func lowercasedScheme(_ bytes: Slice<UnsafeBufferPointer<UInt8>>, _ source: Substring) -> String {
        func equals(_ word: StaticString) -> Bool {
            guard bytes.count == word.utf8CodeUnitCount else { return false }
            var i = 0
            for b in bytes {
                if SIPGrammar.lowercase(b) != word.utf8Start[i] { return false }
                i += 1
            }
            return true
        }
        if equals("sip") { return "sip" }
        if equals("sips") { return "sips" }
        if equals("tel") { return "tel" }
        return String(decoding: bytes.map(SIPGrammar.lowercase), as: UTF8.self)
    }

    public init(_ text: String) throws(SIPGrammarError) { try self.init(parsing: Substring(text)) }

    static func checkEscapes(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) throws(SIPGrammarError) {
        var i = bytes.startIndex
        while i < bytes.endIndex {
            if bytes[i] == UInt8(ascii: "%") {
                guard i + 2 < bytes.endIndex, SIPGrammar.isHexDigit(bytes[i + 1]), SIPGrammar.isHexDigit(bytes[i + 2])
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
