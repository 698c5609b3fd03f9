/// Character classes of the SIP grammar (RFC 3261 §25.1), as 256-entry lookup tables so that scanning a
/// byte is one load.
public enum SIPGrammar {
    /// `token` characters: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~".
    public static let tokenTable: [Bool] = table { byte in
        isAlphanumeric(byte) || "-.!%*_+`'~".utf8.contains(byte)
    }

    /// Characters allowed in a `host` outside an IPv6 reference: alphanum, "-", ".".
    public static let hostTable: [Bool] = table { byte in isAlphanumeric(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") }

    /// `unreserved` / `escaped` starter / `user-unreserved` (RFC 3261 §25.1 `user`).
    public static let userTable: [Bool] = table { byte in
        isAlphanumeric(byte) || "-_.!~*'()%&=+$,;?/".utf8.contains(byte)
    }

    /// `paramchar` = param-unreserved / unreserved / escaped.
    public static let uriParamTable: [Bool] = table { byte in
        isAlphanumeric(byte) || "-_.!~*'()%[]/:&+$".utf8.contains(byte)
    }

    /// `hnv-unreserved` / unreserved / escaped, for URI headers.
    public static let uriHeaderTable: [Bool] = table { byte in
        isAlphanumeric(byte) || "-_.!~*'()%[]/?:+$".utf8.contains(byte)
    }

    /// `word` characters used by Call-ID: token characters plus `( ) < > : \ " / [ ] ? { }`.
    public static let wordTable: [Bool] = table { byte in
        isAlphanumeric(byte) || "-.!%*_+`'~()<>:\\\"/[]?{}".utf8.contains(byte)
    }

    @inlinable public static func isToken(_ byte: UInt8) -> Bool { tokenTable[Int(byte)] }

    @inlinable public static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A
    }

    @inlinable public static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    @inlinable public static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66)
    }

    @inlinable public static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }

    @inlinable public static func isAlpha(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }

    @inlinable public static func lowercase(_ byte: UInt8) -> UInt8 {
        (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
    }

    /// True when every byte of `text` is a token character and it is not empty.
    public static func isToken<S: StringProtocol>(_ text: S) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { tokenTable[Int($0)] }
    }

    /// Case-insensitive ASCII equality, without allocating.
    @inlinable public static func equalsIgnoringCase<A: StringProtocol, B: StringProtocol>(_ a: A, _ b: B) -> Bool {
        let x = a.utf8, y = b.utf8
        guard x.count == y.count else { return false }
        return zip(x, y).allSatisfy { lowercase($0) == lowercase($1) }
    }

    /// Parses an unsigned decimal of at most `maxDigits` digits; nil for anything else (sign, blank, overflow).
    public static func parseDecimal<S: StringProtocol>(_ text: S, max: UInt64) -> UInt64? {
        var value: UInt64 = 0
        var count = 0
        for byte in text.utf8 {
            guard isDigit(byte) else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(byte - 0x30))
            if o1 || o2 || a > max { return nil }
            value = a
            count += 1
        }
        return count > 0 ? value : nil
    }

    private static func table(_ predicate: (UInt8) -> Bool) -> [Bool] {
        (0...255).map { predicate(UInt8($0)) }
    }
}
