/// A cursor over the UTF-8 bytes of one header value, implementing the basic rules of RFC 3261 §25.1
/// (LWS, token, quoted-string, separators). Header values are already unfolded when it sees them.
///
/// A scanner lives only inside `SIPValueScanner.scan(_:_:)`, which lends it the value's bytes in place
/// (a native string's UTF-8 is contiguous: nothing is copied); what it reads comes back as substrings of
/// the value.
public struct SIPValueScanner {
    public let source: Substring
    /// The value's bytes, valid only inside `scan`.
    public let bytes: UnsafeBufferPointer<UInt8>
    /// Offset of the next unread byte.
    public var index: Int

    @usableFromInline init(source: Substring, bytes: UnsafeBufferPointer<UInt8>) {
        self.source = source
        self.bytes = bytes
        self.index = 0
    }

    /// Runs `body` with a scanner over `text` and returns its result.
    @inlinable
    public static func scan<T>(_ text: Substring, _ body: (inout SIPValueScanner) throws(SIPGrammarError) -> T) throws(SIPGrammarError) -> T {
        var bytes = text
        do {
            // A native substring lends its UTF-8 in place; another is made contiguous first.
            return try bytes.withUTF8 { buffer in
                var scanner = SIPValueScanner(source: text, bytes: buffer)
                return try body(&scanner)
            }
        } catch let error as SIPGrammarError {
            throw error
        } catch {
            preconditionFailure("only grammar errors are thrown here")
        }
    }

    public var isAtEnd: Bool { index == bytes.count }

    public var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    /// The substring of the source between two byte offsets (O(1) for native strings).
    @inlinable public func slice(_ from: Int, _ to: Int) -> Substring {
        let utf8 = source.utf8
        let lo = utf8.index(utf8.startIndex, offsetBy: from)
        let hi = utf8.index(lo, offsetBy: to - from)
        return Substring(utf8[lo..<hi])
    }

    /// The unread rest of the value.
    public var rest: Substring { slice(index, bytes.count) }

    @inlinable public mutating func advance() { index += 1 }

    /// Skips SP, HTAB and (defensively) CR/LF: `LWS`/`SWS` after unfolding.
    @inlinable public mutating func skipWhitespace() {
        while index < bytes.count, SIPGrammar.isWhitespace(bytes[index]) { index += 1 }
    }

    /// Consumes `byte` (after optional whitespace on both sides when `lws` is set).
    @inlinable public mutating func consume(_ byte: UInt8, lws: Bool = false) -> Bool {
        let saved = index
        if lws { skipWhitespace() }
        guard index < bytes.count, bytes[index] == byte else { index = saved; return false }
        index += 1
        if lws { skipWhitespace() }
        return true
    }

    /// Reads while the byte is in `set`; returns nil when nothing matched.
    @inlinable public mutating func read(while set: SIPCharacterClass) -> Substring? {
        let start = index
        while index < bytes.count, set.contains(bytes[index]) { index += 1 }
        return start == index ? nil : slice(start, index)
    }

    /// Skips bytes in `set` and returns how many (no substring is made).
    @inlinable public mutating func skip(while set: SIPCharacterClass) -> Int {
        let start = index
        while index < bytes.count, set.contains(bytes[index]) { index += 1 }
        return index - start
    }

    /// True when `byte` occurs in the unread rest.
    @inlinable public func restContains(_ byte: UInt8) -> Bool {
        var i = index
        while i < bytes.count {
            if bytes[i] == byte { return true }
            i += 1
        }
        return false
    }

    /// Reads one `token`.
    @inlinable public mutating func token() -> Substring? { read(while: SIPGrammar.tokenTable) }

    /// True when the next bytes spell `word`, compared case-insensitively; they are then consumed.
    @inlinable public mutating func consume(caseInsensitive word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count else { return false }
        let w = word.utf8Start
        for i in 0..<count where SIPGrammar.lowercase(bytes[index + i]) != SIPGrammar.lowercase(w[i]) { return false }
        index += count
        return true
    }

    /// Reads until one of `stops` (not consumed) or the end.
    public mutating func read(until stops: UInt8...) -> Substring {
        let start = index
        while index < bytes.count, !stops.contains(bytes[index]) { index += 1 }
        return slice(start, index)
    }

    /// Reads until `stop` (not consumed) or the end.
    @inlinable public mutating func read(until stop: UInt8) -> Substring {
        let start = index
        while index < bytes.count, bytes[index] != stop { index += 1 }
        return slice(start, index)
    }

    /// Reads a `quoted-string` starting at the current `"`, returning it raw (with quotes and escapes).
    /// RFC 3261 §25.1: quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F).
    public mutating func quotedString() throws(SIPGrammarError) -> Substring {
        let start = index
        guard peek == UInt8(ascii: "\"") else { throw .expected("quoted-string") }
        index += 1
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if byte == UInt8(ascii: "\\") {
                guard index < bytes.count, bytes[index] != 0x0A, bytes[index] != 0x0D, bytes[index] < 0x80 else {
                    throw .invalid("bad quoted-pair in quoted-string")
                }
                index += 1
            } else if byte == UInt8(ascii: "\"") {
                return slice(start, index)
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
        let utf8 = self.utf8
        guard utf8.count >= 2, utf8.first == UInt8(ascii: "\""), utf8.last == UInt8(ascii: "\"") else {
            return String(self)
        }
        let inner = utf8.dropFirst().dropLast()
        guard inner.contains(UInt8(ascii: "\\")) else { return String(Substring(inner)) }
        var bytes: [UInt8] = []
        var escaping = false
        for byte in inner {
            if !escaping && byte == UInt8(ascii: "\\") { escaping = true; continue }
            escaping = false
            bytes.append(byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
