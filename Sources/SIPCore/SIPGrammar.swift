/// Character classes of the SIP grammar (RFC 3261 §25.1), as 256-entry lookup tables so that scanning a
/// byte is one load.
public enum SIPGrammar {
    /// `token` characters: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~".
    public static let tokenTable = SIPCharacterClass(low: 0x03FF_6CA2_0000_0000, high: 0x47FF_FFFF_87FF_FFFE)

    /// Characters allowed in a `host` outside an IPv6 reference: alphanum, "-", ".".
    public static let hostTable = SIPCharacterClass(low: 0x03FF_6000_0000_0000, high: 0x07FF_FFFE_07FF_FFFE)

    /// `unreserved` / `escaped` starter / `user-unreserved` (RFC 3261 §25.1 `user`): alphanum and
    /// `-_.!~*'()%&=+$,;?/`.
    public static let userTable = SIPCharacterClass(low: 0xABFF_FFF2_0000_0000, high: 0x47FF_FFFE_87FF_FFFE)

    /// `paramchar` = param-unreserved / unreserved / escaped: alphanum and `-_.!~*'()%[]/:&+$`.
    public static let uriParamTable = SIPCharacterClass(low: 0x07FF_EFF2_0000_0000, high: 0x47FF_FFFE_AFFF_FFFE)

    /// `hnv-unreserved` / unreserved / escaped, for URI headers: alphanum and `-_.!~*'()%[]/?:+$`.
    public static let uriHeaderTable = SIPCharacterClass(low: 0x87FF_EFB2_0000_0000, high: 0x47FF_FFFE_AFFF_FFFE)

    /// `word` characters used by Call-ID: token characters plus `( ) < > : \ " / [ ] ? { }`.
    public static let wordTable = SIPCharacterClass(low: 0xD7FF_EFA6_0000_0000, high: 0x6FFF_FFFF_BFFF_FFFE)

    @inlinable public static func isToken(_ byte: UInt8) -> Bool { tokenTable.contains(byte) }

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
    public static func isToken<S: StringProtocol>(_ text: S) -> Bool { tokenTable.matchesAll(text) }

    /// Case-insensitive ASCII equality, without allocating.
    @inlinable public static func equalsIgnoringCase<A: StringProtocol, B: StringProtocol>(_ a: A, _ b: B) -> Bool {
        // Native strings and substrings have contiguous UTF-8: compare the bytes directly.
        if let result = a.utf8.withContiguousStorageIfAvailable({ x in
            b.utf8.withContiguousStorageIfAvailable { y in equalsIgnoringCase(x, y) }
        }), let result {
            return result
        }
        let x = a.utf8, y = b.utf8
        guard x.count == y.count else { return false }
        return zip(x, y).allSatisfy { lowercase($0) == lowercase($1) }
    }

    /// Case-insensitive ASCII equality of two byte runs.
    @inlinable public static func equalsIgnoringCase(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Bool {
        guard x.count == y.count else { return false }
        for i in 0..<x.count where x[i] != y[i] && lowercase(x[i]) != lowercase(y[i]) { return false }
        return true
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

}
