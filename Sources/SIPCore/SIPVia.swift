/// One Via value (RFC 3261 §20.42): `SIP/2.0/<transport> host[:port] *(;via-params)`.
public struct SIPVia: Hashable, Sendable, CustomStringConvertible {
    /// Uppercased transport: `UDP`, `TCP`, `TLS`, `SCTP`, `WS`, or an unknown token.
    public var transport: String
    public var host: String
    public var port: Int?
    public var parameters: SIPParameters

    /// RFC 3261 §8.1.1.7: branch IDs of compliant elements begin with this cookie.
    public static let magicCookie = "z9hG4bK"

    public init(transport: String, host: String, port: Int?, branch: String, rport: Bool = true) {
        self.transport = transport
        self.host = host
        self.port = port
        var params = SIPParameters([SIPParameter("branch", branch)])
        if rport { params.items.append(SIPParameter("rport", nil)) }
        self.parameters = params
    }

    public var branch: String? { parameters.value("branch") }
    public var received: String? { parameters.value("received") }
    /// `rport` value (RFC 3581): `.some(nil)` when present without a value.
    public var rport: String?? { parameters["rport"] }

    public var description: String {
        var out = "SIP/2.0/" + transport + " " + host
        if let port { out += ":\(port)" }
        parameters.write(to: &out)
        return out
    }

    public init(parsing text: Substring) throws(SIPGrammarError) {
        self = try SIPValueScanner.scan(text) { scanner throws(SIPGrammarError) in try SIPVia(scanning: &scanner) }
    }

    init(scanning scanner: inout SIPValueScanner) throws(SIPGrammarError) {
        scanner.skipWhitespace()
        guard scanner.consume(caseInsensitive: "SIP"), !(scanner.peek.map(SIPGrammar.tokenTable.contains) ?? false) else {
            throw .expected("SIP protocol name in Via")
        }
        guard scanner.consume(UInt8(ascii: "/"), lws: true), let version = scanner.token(), version == "2.0" else {
            throw .expected("SIP/2.0 in Via")
        }
        guard scanner.consume(UInt8(ascii: "/"), lws: true), let transport = scanner.token() else {
            throw .expected("transport in Via")
        }
        self.transport = SIPVia.canonicalTransport(transport)
        scanner.skipWhitespace()
        if scanner.peek == UInt8(ascii: "[") {
            let v6 = scanner.read(until: UInt8(ascii: "]"))
            guard scanner.consume(UInt8(ascii: "]")) else { throw .invalid("bad IPv6 reference in Via") }
            host = String(v6) + "]"
        } else {
            guard let h = scanner.read(while: SIPGrammar.hostTable) else { throw .expected("sent-by host in Via") }
            host = String(h)
        }
        port = nil
        if scanner.consume(UInt8(ascii: ":"), lws: true) {
            guard let digits = scanner.token(), let value = SIPGrammar.parseDecimal(digits, max: 65535) else {
                throw .invalid("invalid port in Via")
            }
            port = Int(value)
        }
        parameters = try SIPParameters.parse(&scanner)
        scanner.skipWhitespace()
        guard scanner.isAtEnd else { throw .invalid("unexpected '\(scanner.rest)' in Via") }
        if let ttl = parameters.value("ttl"), SIPGrammar.parseDecimal(ttl, max: 255) == nil {
            throw .invalid("Via ttl out of range")
        }
    }

    public init(_ text: String) throws(SIPGrammarError) { try self.init(parsing: Substring(text)) }

    /// The transport token uppercased, without making a string for the usual ones.
    static func canonicalTransport(_ token: Substring) -> String {
        for known in ["UDP", "TCP", "TLS", "SCTP", "WS", "WSS"] where SIPGrammar.equalsIgnoringCase(token, known) { return known }
        return token.uppercased()
    }
}

/// The CSeq header (RFC 3261 §20.16): a sequence number below 2**31 and the method.
public struct SIPCSeq: Hashable, Sendable, CustomStringConvertible {
    public var sequence: UInt32
    public var method: SIPMethod

    public init(_ sequence: UInt32, _ method: SIPMethod) {
        self.sequence = sequence
        self.method = method
    }

    public var description: String { "\(sequence) \(method.rawValue)" }

    public init(parsing text: Substring) throws(SIPGrammarError) {
        self = try SIPValueScanner.scan(text) { scanner throws(SIPGrammarError) in try SIPCSeq(scanning: &scanner) }
    }

    init(scanning scanner: inout SIPValueScanner) throws(SIPGrammarError) {
        scanner.skipWhitespace()
        guard let digits = scanner.read(while: SIPGrammar.tokenTable) else { throw .expected("CSeq number") }
        // RFC 3261 §8.1.1.5: the sequence number MUST be expressible as a 32-bit unsigned integer and
        // less than 2**31.
        guard let number = SIPGrammar.parseDecimal(digits, max: UInt64(Int32.max)) else {
            throw .invalid("CSeq number '\(digits)' is not below 2^31")
        }
        scanner.skipWhitespace()
        guard let method = scanner.token() else { throw .expected("CSeq method") }
        scanner.skipWhitespace()
        guard scanner.isAtEnd else { throw .invalid("unexpected '\(scanner.rest)' in CSeq") }
        sequence = UInt32(number)
        self.method = SIPMethod(known: method)
    }
}
