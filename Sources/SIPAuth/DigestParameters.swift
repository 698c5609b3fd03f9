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

    public var serialized: String {
        scheme + " " + items.map { $0.quoted ? "\($0.name)=\"\(Self.escape($0.value))\"" : "\($0.name)=\($0.value)" }.joined(separator: ", ")
    }

    static func escape(_ value: String) -> String {
        guard value.contains("\"") || value.contains("\\") else { return value }
        return value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    }

    /// Parses `scheme auth-param *(COMMA auth-param)`.
    public init(parsing text: Substring) throws(SIPGrammarError) {
        var scanner = SIPValueScanner(text)
        scanner.skipWhitespace()
        guard let scheme = scanner.token() else { throw .expected("authentication scheme") }
        self.scheme = String(scheme)
        self.items = []
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
