/// A cursor over the UTF-8 bytes of one header value, implementing the basic rules of RFC 3261 §25.1
/// (LWS, token, quoted-string, separators). Header values are already unfolded when it sees them.
public struct SIPValueScanner {
    public let source: Substring
    public private(set) var index: Substring.UTF8View.Index

    public init(_ source: Substring) {
        self.source = source
        self.index = source.utf8.startIndex
    }

    public var isAtEnd: Bool { index == source.utf8.endIndex }

    public var peek: UInt8? { isAtEnd ? nil : source.utf8[index] }

    /// The unread rest of the value.
    public var rest: Substring { Substring(source.utf8[index...]) }

    public mutating func advance() { index = source.utf8.index(after: index) }

    /// Skips SP, HTAB and (defensively) CR/LF: `LWS`/`SWS` after unfolding.
    public mutating func skipWhitespace() {
        while let byte = peek, SIPGrammar.isWhitespace(byte) { advance() }
    }

    /// Consumes `byte` (after optional whitespace on both sides when `lws` is set).
    public mutating func consume(_ byte: UInt8, lws: Bool = false) -> Bool {
        let saved = index
        if lws { skipWhitespace() }
        guard peek == byte else { index = saved; return false }
        advance()
        if lws { skipWhitespace() }
        return true
    }

    /// Reads while `table[byte]` holds; returns nil when nothing matched.
    public mutating func read(while table: [Bool]) -> Substring? {
        let start = index
        while let byte = peek, table[Int(byte)] { advance() }
        return start == index ? nil : Substring(source.utf8[start..<index])
    }

    /// Reads one `token`.
    public mutating func token() -> Substring? { read(while: SIPGrammar.tokenTable) }

    /// Reads until one of `stops` (not consumed) or the end.
    public mutating func read(until stops: UInt8...) -> Substring {
        let start = index
        while let byte = peek, !stops.contains(byte) { advance() }
        return Substring(source.utf8[start..<index])
    }

    /// Reads a `quoted-string` starting at the current `"`, returning it raw (with quotes and escapes).
    /// RFC 3261 §25.1: quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F).
    public mutating func quotedString() throws(SIPGrammarError) -> Substring {
        let start = index
        guard peek == UInt8(ascii: "\"") else { throw .expected("quoted-string") }
        advance()
        while let byte = peek {
            advance()
            if byte == UInt8(ascii: "\\") {
                guard let escaped = peek, escaped != 0x0A, escaped != 0x0D, escaped < 0x80 else {
                    throw .invalid("bad quoted-pair in quoted-string")
                }
                advance()
            } else if byte == UInt8(ascii: "\"") {
                return Substring(source.utf8[start..<index])
            }
        }
        throw .invalid("unterminated quoted-string")
    }
}

/// A grammar error inside one header value; the message parser adds the header name and line.
public enum SIPGrammarError: Error, Equatable, Sendable, CustomStringConvertible {
    case expected(String)
    case invalid(String)

    public var description: String {
        switch self {
        case .expected(let what): return "expected \(what)"
        case .invalid(let what): return what
        }
    }
}

extension Substring {
    /// The content of a quoted-string with its quotes removed and quoted-pairs resolved.
    public var unquoted: String {
        guard self.utf8.count >= 2, self.utf8.first == UInt8(ascii: "\""), self.utf8.last == UInt8(ascii: "\"") else {
            return String(self)
        }
        let inner = self.dropFirst().dropLast()
        guard inner.utf8.contains(UInt8(ascii: "\\")) else { return String(inner) }
        var bytes: [UInt8] = []
        var escaping = false
        for byte in inner.utf8 {
            if !escaping && byte == UInt8(ascii: "\\") { escaping = true; continue }
            escaping = false
            bytes.append(byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
