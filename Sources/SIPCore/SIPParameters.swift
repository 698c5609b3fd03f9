/// One `generic-param` (RFC 3261 §25.1): `token [ EQUAL gen-value ]`, value kept as on the wire
/// (a quoted value keeps its quotes).
public struct SIPParameter: Hashable, Sendable {
    public var name: String
    public var value: String?

    public init(_ name: String, _ value: String? = nil) {
        self.name = name
        self.value = value
    }
}

/// An ordered list of `;name=value` parameters with case-insensitive lookup by name.
public struct SIPParameters: Hashable, Sendable, ExpressibleByDictionaryLiteral {
    public var items: [SIPParameter]

    public init(_ items: [SIPParameter] = []) { self.items = items }

    public init(dictionaryLiteral elements: (String, String?)...) {
        self.items = elements.map { SIPParameter($0.0, $0.1) }
    }

    public var isEmpty: Bool { items.isEmpty }

    /// True when a parameter with this name is present (with or without a value).
    public func contains(_ name: String) -> Bool {
        items.contains { SIPGrammar.equalsIgnoringCase($0.name, name) }
    }

    /// The value of the first parameter named `name`; `.some(nil)` for a present parameter with no value.
    public subscript(name: String) -> String?? {
        get {
            guard let item = items.first(where: { SIPGrammar.equalsIgnoringCase($0.name, name) }) else { return nil }
            return .some(item.value)
        }
    }

    /// The value of `name`, or nil when absent or valueless.
    public func value(_ name: String) -> String? { self[name] ?? nil }

    /// Sets (replacing) or appends a parameter.
    public mutating func set(_ name: String, _ value: String?) {
        if let i = items.firstIndex(where: { SIPGrammar.equalsIgnoringCase($0.name, name) }) {
            items[i].value = value
        } else {
            items.append(SIPParameter(name, value))
        }
    }

    public mutating func remove(_ name: String) {
        items.removeAll { SIPGrammar.equalsIgnoringCase($0.name, name) }
    }

    /// Appends `;name[=value]` for every parameter.
    public func write(to output: inout String) {
        for item in items {
            output += ";"
            output += item.name
            if let value = item.value {
                output += "="
                output += value
            }
        }
    }

    public var serialized: String {
        var out = ""
        write(to: &out)
        return out
    }

    /// Parses `*( SEMI generic-param )` from the scanner, tolerating LWS around `;` and `=` (RFC 3261 §25.1
    /// SEMI and EQUAL allow SWS). Stops at `,`, `>`, `?` or the end. Empty parameters (`;;`) are errors.
    public static func parse(_ scanner: inout SIPValueScanner, allowNames table: SIPCharacterClass = SIPGrammar.tokenTable)
        throws(SIPGrammarError) -> SIPParameters
    {
        var result = SIPParameters()
        while true {
            scanner.skipWhitespace()
            guard scanner.consume(UInt8(ascii: ";")) else { break }
            scanner.skipWhitespace()
            guard let name = scanner.read(while: table) else { throw .invalid("empty parameter") }
            var value: String? = nil
            if scanner.consume(UInt8(ascii: "="), lws: true) {
                value = try parseValue(&scanner, table: table)
            }
            result.items.append(SIPParameter(String(name), value))
        }
        return result
    }

    /// `gen-value = token / host / quoted-string`.
    static func parseValue(_ scanner: inout SIPValueScanner, table: SIPCharacterClass) throws(SIPGrammarError) -> String {
        switch scanner.peek {
        case UInt8(ascii: "\""):
            return String(try scanner.quotedString())
        case UInt8(ascii: "["):
            let value = scanner.read(until: UInt8(ascii: "]"))
            guard scanner.consume(UInt8(ascii: "]")) else { throw .invalid("unterminated IPv6 reference in parameter") }
            return String(value) + "]"
        default:
            guard let value = scanner.read(while: table) else { throw .invalid("empty parameter value") }
            return String(value)
        }
    }
}
