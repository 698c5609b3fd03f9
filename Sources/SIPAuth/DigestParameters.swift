import SIPCore

/// The comma-separated `auth-param` list after `Digest` in a challenge or credentials header
/// (RFC 3261 §25.1 `digest-cln`, `dig-resp`): names are case-insensitive, values tokens or quoted strings.
public struct DigestParameters: Sendable, Hashable {
    public var scheme: String
    public private(set) var items: [(name: String, value: String, quoted: Bool)]

    public static func == (a: DigestParameters, b: DigestParameters) -> Bool {
        a.scheme == b.scheme && a.items.map { "\($0.name)=\($0.value)" } == b.items.map { "\($0.name)=\($0.value)" }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(scheme)
        for item in items { hasher.combine(item.name); hasher.combine(item.value) }
    }

    public init(scheme: String = "Digest") {
        self.scheme = scheme
        self.items = []
    }

    /// The unquoted value of `name`.
    public subscript(name: String) -> String? {
        items.first { SIPGrammar.equalsIgnoringCase($0.name, name) }?.value
    }

    public mutating func append(_ name: String, _ value: String, quoted: Bool) {
        items.append((name, value, quoted))
    }

    public var serialized: String { serialized(separator: ", ") }

    /// The header value with `separator` between the parameters (Meta's challenges use a bare ",").
    public func serialized(separator: String) -> String {
        var out = scheme
        out.reserveCapacity(scheme.count + 1 + items.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 + separator.utf8.count })
        out += " "
        for (i, item) in items.enumerated() {
            if i > 0 { out += separator }
            out += item.name
            out += "="
            if item.quoted {
                out += "\""
                out += Self.escape(item.value)
                out += "\""
            } else {
                out += item.value
            }
        }
        return out
    }

    static func escape(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else { return value }
        return value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    }

    /// Parses `scheme auth-param *(COMMA auth-param)`.
    public init(parsing text: Substring) throws(SIPGrammarError) {
        self = try SIPValueScanner.scan(text) { scanner throws(SIPGrammarError) in try DigestParameters(scanning: &scanner) }
    }

    init(scanning scanner: inout SIPValueScanner) throws(SIPGrammarError) {
        scanner.skipWhitespace()
        guard let scheme = scanner.token() else { throw .expected("authentication scheme") }
        self.scheme = String(scheme)
        self.items = []
        items.reserveCapacity(10)
        scanner.skipWhitespace()
        while !scanner.isAtEnd {
            guard let name = scanner.token() else { throw .invalid("bad auth-param near '\(scanner.rest)'") }
            guard scanner.consume(UInt8(ascii: "="), lws: true) else { throw .expected("'=' after \(name)") }
            if scanner.peek == UInt8(ascii: "\"") {
                items.append((String(name), try scanner.quotedString().unquoted, true))
            } else {
                guard let value = scanner.read(while: SIPGrammar.tokenTable) else { throw .invalid("empty value for \(name)") }
                items.append((String(name), String(value), false))
            }
            scanner.skipWhitespace()
            if scanner.isAtEnd { break }
            guard scanner.consume(UInt8(ascii: ","), lws: true) else { throw .expected("',' between auth-params") }
        }
    }
}
