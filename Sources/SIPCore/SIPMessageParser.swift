import NIOCore

/// The start line and header fields of a message, before its body is attached.
public struct SIPMessageHead: Sendable {
    public enum StartLine: Sendable {
        case request(SIPMethod, SIPURI)
        case response(Int, String)
    }

    public var startLine: StartLine
    public var headers: SIPHeaders

    /// The Content-Length value; nil when absent. RFC 3261 §20.14: 1*DIGIT. Several values are an error.
    public func contentLength() throws(SIPParseError) -> Int? {
        var found: Substring?
        for field in headers.fields where field.name == .contentLength {
            guard found == nil else { throw SIPParseError(.duplicateHeader(.contentLength), "several Content-Length headers") }
            found = field.value
        }
        guard let first = found else { return nil }
        guard let value = SIPGrammar.parseDecimal(first.trimmingWhitespace(), max: UInt64(Int32.max)) else {
            throw SIPParseError(.invalidContentLength, "Content-Length '\(first)' is not a non-negative integer")
        }
        return Int(value)
    }

    public func message(body: ByteBuffer) -> SIPMessage {
        switch startLine {
        case .request(let method, let uri):
            return .request(SIPRequest(method: method, uri: uri, headers: headers, body: body))
        case .response(let code, let reason):
            return .response(SIPResponse(statusCode: code, reasonPhrase: reason, headers: headers, body: body))
        }
    }
}

/// Reads message heads (RFC 3261 §7): the start line, header lines with folding (§7.3.1) and compact names.
/// The head is decoded into one String once; one pass over its UTF-8 bytes finds lines, colons and the
/// trimmed value of each field, and every header value is a Substring of that String (no copy).
public enum SIPMessageParser {
    /// Parses a head that ends before the blank line (the CRLF CRLF is not included).
    public static func parseHead(_ text: String, limits: SIPParserLimits = .default) throws(SIPParseError) -> SIPMessageHead {
        var text = text
        text.makeContiguousUTF8()
        var result: Result<SIPMessageHead, SIPParseError>!
        text.utf8.withContiguousStorageIfAvailable { bytes in
            do throws(SIPParseError) {
                result = .success(try parseHead(bytes, text: text, limits: limits))
            } catch {
                result = .failure(error)
            }
        }
        return try result.get()
    }

    /// One line of the head: byte offsets of its start and end (CR excluded) and its 1-based number.
    struct Line {
        var start: Int
        var end: Int
        var number: Int
        var isEmpty: Bool { start == end }
    }

    /// The lines of `bytes`, in order.
    struct Lines {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0
        var number = 0

        mutating func next() -> Line? {
            guard position < bytes.count else { return nil }
            let start = position
            var i = start
            while i < bytes.count, bytes[i] != 0x0A { i += 1 }
            var end = i
            if end > start, bytes[end - 1] == 0x0D { end -= 1 }
            position = i + 1
            number += 1
            return Line(start: start, end: end, number: number)
        }
    }

    static func parseHead(_ bytes: UnsafeBufferPointer<UInt8>, text: String, limits: SIPParserLimits) throws(SIPParseError) -> SIPMessageHead {
        let utf8 = text.utf8
        let base = utf8.startIndex
        @inline(__always) func sub(_ a: Int, _ b: Int) -> Substring {
            let lo = utf8.index(base, offsetBy: a)
            return Substring(utf8[lo..<utf8.index(lo, offsetBy: b - a)])
        }
        @inline(__always) func trimmed(_ a: Int, _ b: Int) -> (Int, Int) {
            var a = a, b = b
            while a < b, SIPGrammar.isWhitespace(bytes[a]) { a += 1 }
            while b > a, SIPGrammar.isWhitespace(bytes[b - 1]) { b -= 1 }
            return (a, b)
        }
        var lines = Lines(bytes: bytes)
        // RFC 3261 §7.5: implementations SHOULD ignore CRLFs before the start line.
        var first = lines.next()
        while let line = first, line.isEmpty { first = lines.next() }
        guard let first, !first.isEmpty else { throw SIPParseError(.malformedStartLine, line: 1, "empty message") }
        guard first.end - first.start <= limits.maxLineLength else {
            throw SIPParseError(.lineTooLong(limit: limits.maxLineLength), line: first.number, "start line longer than \(limits.maxLineLength)")
        }
        let startLine = try parseStartLine(bytes, first, sub: sub)

        var fields: [SIPHeaderField] = []
        fields.reserveCapacity(16)
        // A folded field: its index and the byte ranges of its parts, joined at the end of the field.
        var fold: (index: Int, parts: [(Int, Int)], length: Int)? = nil
        func flushFold() {
            guard let f = fold else { return }
            var joined = ""
            joined.reserveCapacity(f.length + f.parts.count)
            for (i, part) in f.parts.enumerated() {
                if i > 0 { joined += " " }
                joined += sub(part.0, part.1)
            }
            fields[f.index].value = Substring(joined)
            fold = nil
        }
        while let line = lines.next() {
            guard !line.isEmpty else {
                throw SIPParseError(.malformedHeaderLine, line: line.number, "blank line inside the header")
            }
            let firstByte = bytes[line.start]
            if firstByte == 0x20 || firstByte == 0x09 {
                // Continuation line (LWS folding): joined to the previous value with one SP.
                guard !fields.isEmpty else { throw SIPParseError(.malformedHeaderLine, line: line.number, "continuation line before any header") }
                let part = trimmed(line.start, line.end)
                if fold == nil {
                    let last = fields.count - 1
                    let value = fields[last].value
                    // The value's offsets in the head: it is a substring of `text`.
                    let lo = utf8.distance(from: base, to: value.startIndex)
                    fold = (last, [(lo, lo + value.utf8.count)], value.utf8.count)
                }
                fold!.parts.append(part)
                fold!.length += part.1 - part.0 + 1
                guard fold!.length <= limits.maxLineLength else {
                    throw SIPParseError(.lineTooLong(limit: limits.maxLineLength), line: line.number, "folded header longer than \(limits.maxLineLength)")
                }
                continue
            }
            flushFold()
            guard line.end - line.start <= limits.maxLineLength else {
                throw SIPParseError(.lineTooLong(limit: limits.maxLineLength), line: line.number, "header line longer than \(limits.maxLineLength)")
            }
            guard fields.count < limits.maxHeaderCount else {
                throw SIPParseError(.tooManyHeaders(limit: limits.maxHeaderCount), line: line.number, "more than \(limits.maxHeaderCount) header lines")
            }
            var colon = line.start
            while colon < line.end, bytes[colon] != UInt8(ascii: ":") { colon += 1 }
            guard colon < line.end else {
                throw SIPParseError(.malformedHeaderLine, line: line.number, "header line without ':'")
            }
            // HCOLON = *( SP / HTAB ) ":" SWS
            let (nameStart, nameEnd) = trimmed(line.start, colon)
            guard nameEnd > nameStart, bytes[nameStart..<nameEnd].allSatisfy({ SIPGrammar.tokenTable.contains($0) }) else {
                throw SIPParseError(.malformedHeaderLine, line: line.number, "header name '\(sub(nameStart, nameEnd))' is not a token")
            }
            let name = SIPHeaderName.lookup(UnsafeBufferPointer(rebasing: bytes[nameStart..<nameEnd])) ?? SIPHeaderName(extension: sub(nameStart, nameEnd))
            let (valueStart, valueEnd) = trimmed(colon + 1, line.end)
            fields.append(SIPHeaderField(name: name, value: sub(valueStart, valueEnd)))
        }
        flushFold()
        return SIPMessageHead(startLine: startLine, headers: SIPHeaders(fields))
    }

    static func parseStartLine(_ bytes: UnsafeBufferPointer<UInt8>, _ line: Line, sub: (Int, Int) -> Substring) throws(SIPParseError) -> SIPMessageHead.StartLine {
        let number = line.number
        let a = line.start, b = line.end
        @inline(__always) func next(_ byte: UInt8, from: Int) -> Int {
            var i = from
            while i < b, bytes[i] != byte { i += 1 }
            return i
        }
        if b - a >= 4, bytes[a] == UInt8(ascii: "S"), bytes[a + 1] == UInt8(ascii: "I"), bytes[a + 2] == UInt8(ascii: "P"), bytes[a + 3] == UInt8(ascii: "/") {
            // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
            let sp1 = next(0x20, from: a)
            guard sp1 < b else { throw SIPParseError(.malformedStartLine, line: number, "status line '\(sub(a, b))' lacks a status code") }
            try checkVersion(sub(a, sp1), line: number)
            let sp2 = next(0x20, from: sp1 + 1)
            let codeText = sub(sp1 + 1, sp2)
            guard sp2 - sp1 - 1 == 3, let code = SIPGrammar.parseDecimal(codeText, max: 699), code >= 100 else {
                throw SIPParseError(.invalidStatusCode, line: number, "status code '\(codeText)' is not 100-699")
            }
            let reason = sp2 < b ? String(sub(sp2 + 1, b)) : ""
            return .response(Int(code), reason)
        }
        // Request-Line = Method SP Request-URI SP SIP-Version: exactly one SP between the three.
        let sp1 = next(0x20, from: a)
        let sp2 = sp1 < b ? next(0x20, from: sp1 + 1) : b
        let extra = sp2 < b ? next(0x20, from: sp2 + 1) : b
        guard sp1 > a, sp2 < b, sp2 > sp1 + 1, sp2 + 1 < b, extra == b else {
            throw SIPParseError(.malformedStartLine, line: number, "request line must be 'METHOD SP URI SP SIP/2.0' with single spaces, got '\(sub(a, b))'")
        }
        guard bytes[a..<sp1].allSatisfy({ SIPGrammar.tokenTable.contains($0) }) else {
            throw SIPParseError(.malformedStartLine, line: number, "method '\(sub(a, sp1))' is not a token")
        }
        try checkVersion(sub(sp2 + 1, b), line: number)
        let uriText = sub(sp1 + 1, sp2)
        let uri: SIPURI
        do {
            uri = try SIPURI(parsing: uriText)
        } catch {
            throw SIPParseError(.invalidRequestURI, line: number, "Request-URI '\(uriText)': \(error)")
        }
        // RFC 3261 §19.1.1 table: the headers component is not allowed in a Request-URI.
        if uri.headers != nil {
            throw SIPParseError(.invalidRequestURI, line: number, "Request-URI '\(uriText)' carries ?headers, not allowed in a Request-URI")
        }
        return .request(SIPMethod(known: sub(a, sp1)), uri)
    }

    static func checkVersion(_ text: Substring, line: Int) throws(SIPParseError) {
        guard SIPGrammar.equalsIgnoringCase(text, "SIP/2.0") else {
            let shape = text.utf8.starts(with: "SIP/".utf8) || text.utf8.starts(with: "sip/".utf8)
            throw SIPParseError(shape ? .unsupportedVersion : .malformedStartLine, line: line, "protocol version '\(text)' is not SIP/2.0")
        }
    }

    /// Reads one UDP datagram (RFC 3261 §18.3): the body runs to Content-Length when present, else to the end
    /// of the datagram; octets after Content-Length are ignored; a Content-Length past the end is an error.
    /// Returns nil for a keep-alive (only CR/LF).
    public static func parseDatagram(_ buffer: ByteBuffer, limits: SIPParserLimits = .default) throws(SIPParseError) -> SIPMessage? {
        var buffer = buffer
        guard buffer.readableBytes <= limits.maxMessageSize else {
            throw SIPParseError(.messageTooLarge(limit: limits.maxMessageSize), "datagram of \(buffer.readableBytes) bytes")
        }
        while let byte = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self), byte == 0x0D || byte == 0x0A {
            buffer.moveReaderIndex(forwardBy: 1)
        }
        if buffer.readableBytes == 0 { return nil }
        guard let end = SIPFraming.findHeadEnd(buffer, from: buffer.readerIndex) else {
            throw SIPParseError(.malformedHeaderLine, "no blank line ends the header")
        }
        let headLength = end - buffer.readerIndex
        let text = buffer.readString(length: headLength)!
        buffer.moveReaderIndex(forwardBy: 4)
        let head = try parseHead(text, limits: limits)
        let available = buffer.readableBytes
        let bodyLength = try head.contentLength() ?? available
        guard bodyLength <= available else {
            throw SIPParseError(.bodyTruncated, "Content-Length \(bodyLength) exceeds the \(available) body bytes in the datagram")
        }
        // Copy the body out: a slice would keep the whole receive buffer (up to 64 KB) alive for as long
        // as the message is stored in a transaction.
        var body = ByteBuffer()
        if bodyLength > 0 { body = ByteBuffer(bytes: buffer.readBytes(length: bodyLength)!) }
        return head.message(body: body)
    }
}

/// Finding message boundaries in bytes.
public enum SIPFraming {
    /// Absolute offset of the CR of the CRLF CRLF that ends the head, searching from absolute offset `from`
    /// (so that a stream decoder does not rescan bytes it has already seen).
    public static func findHeadEnd(_ buffer: ByteBuffer, from: Int) -> Int? {
        buffer.withUnsafeReadableBytes { raw -> Int? in
            let base = buffer.readerIndex
            var i = max(from - base, 0)
            let n = raw.count
            while i + 3 < n {
                // Step on the second LF position check first: most bytes are not LF.
                let b = raw[i + 3]
                if b != 0x0A {
                    i += (b == 0x0D) ? 1 : 4
                    continue
                }
                if raw[i] == 0x0D, raw[i + 1] == 0x0A, raw[i + 2] == 0x0D { return base + i }
                i += 1
            }
            return nil
        }
    }
}
