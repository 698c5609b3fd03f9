/// A `name-addr` or `addr-spec` with header parameters, as in From, To, Contact, Route and Record-Route
/// (RFC 3261 §20.10, §25.1).
///
///     "Alice" <sip:alice@example.com>;tag=1928301774      name-addr
///     sip:alice@example.com;tag=1928301774                addr-spec: `;tag` is a header parameter
public struct SIPAddress: Hashable, Sendable, CustomStringConvertible {
    /// The display name as written (a quoted one keeps its quotes).
    public var displayName: String?
    public var uri: SIPURI
    /// Header parameters after the address (`tag`, `expires`, `q`, ...).
    public var parameters: SIPParameters
    /// True when the address was (or is to be) written inside `<...>`.
    public var angleBrackets: Bool

    public init(displayName: String? = nil, uri: SIPURI, parameters: SIPParameters = SIPParameters()) {
        self.displayName = displayName
        self.uri = uri
        self.parameters = parameters
        self.angleBrackets = true
    }

    public var tag: String? {
        get { parameters.value("tag") }
        set {
            if let newValue { parameters.set("tag", newValue) } else { parameters.remove("tag") }
        }
    }

    /// The display name without quotes and escapes.
    public var unquotedDisplayName: String? { displayName.map { Substring($0).unquoted } }

    public var description: String {
        var out = ""
        if let displayName {
            out += displayName
            out += " "
        }
        if angleBrackets || displayName != nil {
            out += "<" + uri.description + ">"
        } else {
            out += uri.description
        }
        parameters.write(to: &out)
        return out
    }

    /// Parses one address (one element of a list header).
    public init(parsing text: Substring) throws(SIPGrammarError) {
        self = try SIPValueScanner.scan(text) { scanner throws(SIPGrammarError) in try SIPAddress(scanning: &scanner) }
    }

    init(scanning scanner: inout SIPValueScanner) throws(SIPGrammarError) {
        scanner.skipWhitespace()
        displayName = nil
        if scanner.peek == UInt8(ascii: "\"") {
            displayName = String(try scanner.quotedString())
            scanner.skipWhitespace()
            guard scanner.peek == UInt8(ascii: "<") else { throw .expected("'<' after display name") }
        } else if scanner.restContains(UInt8(ascii: "<")) {
            // display-name = *(token LWS): every word before '<' must be a token (RFC 3261 §25.1).
            let words = scanner.read(until: UInt8(ascii: "<")).trimmingWhitespace()
            if !words.isEmpty {
                for word in words.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
                    guard SIPGrammar.isToken(word) else { throw .invalid("display name '\(words)' is not a token list; quote it") }
                }
                displayName = String(words)
            }
        }
        if scanner.consume(UInt8(ascii: "<")) {
            // Inside LAQUOT/RAQUOT no whitespace is allowed (RFC 3261 §25.1 LAQUOT = SWS "<").
            let inner = scanner.read(until: UInt8(ascii: ">"))
            guard scanner.consume(UInt8(ascii: ">")) else { throw .invalid("missing '>' after URI") }
            guard let f = inner.utf8.first, let l = inner.utf8.last, !SIPGrammar.isWhitespace(f), !SIPGrammar.isWhitespace(l)
            else { throw .invalid("whitespace inside <...>") }
            uri = try SIPURI(parsing: inner)
            angleBrackets = true
        } else {
            // addr-spec: RFC 3261 §20: a URI containing ',', '?' or ';' MUST be in angle brackets, so the URI
            // ends at the first ';' and a '?' is an error.
            let raw = scanner.read(until: UInt8(ascii: ";"), UInt8(ascii: " "), UInt8(ascii: "\t"))
            guard !raw.isEmpty else { throw .expected("address") }
            if raw.utf8.contains(UInt8(ascii: "?")) || raw.utf8.contains(UInt8(ascii: ",")) {
                throw .invalid("URI with '?' or ',' must be enclosed in <...>")
            }
            uri = try SIPURI(parsing: raw)
            angleBrackets = false
        }
        parameters = try SIPParameters.parse(&scanner)
        scanner.skipWhitespace()
        guard scanner.isAtEnd else { throw .invalid("unexpected '\(scanner.rest)' after address") }
    }

    public init(_ text: String) throws(SIPGrammarError) { try self.init(parsing: Substring(text)) }

    /// Parses a list header (Contact, Route, Record-Route) into addresses.
    public static func parseList(_ values: [Substring]) throws(SIPGrammarError) -> [SIPAddress] {
        var result: [SIPAddress] = []
        result.reserveCapacity(values.count)
        for value in values { result.append(try SIPAddress(parsing: value)) }
        return result
    }
}
