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
        let lines = headers.lines(.contentLength)
        guard let first = lines.first else { return nil }
        guard lines.count == 1 else { throw SIPParseError(.duplicateHeader(.contentLength), "several Content-Length headers") }
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
/// The head is decoded into one String once; every header value is a Substring of it.
public enum SIPMessageParser {
    /// One header line found by the byte scan: offsets into the head's UTF-8.
    struct RawLine {
        var start: Int
        var end: Int
        var colon: Int  // -1 when none
        var number: Int
    }

    /// Parses a head that ends before the blank line (the CRLF CRLF is not included). One pass over the
    /// bytes finds lines and colons; names and values are then cut from the string by offset, without copying.
    public static func parseHead(_ text: String, limits: SIPParserLimits = .default) throws(SIPParseError) -> SIPMessageHead {
        var text = text
        text.makeContiguousUTF8()
        let lines: [RawLine] = text.utf8.withContiguousStorageIfAvailable { buf -> [RawLine] in
            var out: [RawLine] = []
            out.reserveCapacity(24)
            var i = 0, start = 0, colon = -1, number = 0
            let n = buf.count
            while i <= n {
                if i == n || buf[i] == 0x0A {
                    var end = i
                    if end > start, buf[end - 1] == 0x0D { end -= 1 }
                    number += 1
                    if !(i == n && start == n) { out.append(RawLine(start: start, end: end, colon: colon, number: number)) }
                    start = i + 1
                    colon = -1
                } else if colon < 0, buf[i] == UInt8(ascii: ":") {
                    colon = i
                }
                i += 1
            }
            return out
        } ?? []
        let base = text.utf8.startIndex
        func sub(_ a: Int, _ b: Int) -> Substring {
            let lo = text.utf8.index(base, offsetBy: a)
            return text[lo..<text.utf8.index(lo, offsetBy: b - a)]
        }
        var position = 0
        // RFC 3261 §7.5: implementations SHOULD ignore CRLFs before the start line.
        while position < lines.count, lines[position].start == lines[position].end { position += 1 }
        guard position < lines.count else { throw SIPParseError(.malformedStartLine, line: 1, "empty message") }
        let first = lines[position]
        guard first.end - first.start <= limits.maxLineLength else {
            throw SIPParseError(.lineTooLong(limit: limits.maxLineLength), line: first.number, "start line longer than \(limits.maxLineLength)")
        }
        let startLine = try parseStartLine(sub(first.start, first.end), line: first.number)

        var fields: [SIPHeaderField] = []
        fields.reserveCapacity(lines.count)
        var pendingFold: (index: Int, parts: [Substring])? = nil
        func flushFold() {
            if let fold = pendingFold {
                fields[fold.index].value = Substring(fold.parts.map { $0.trimmingWhitespace() }.joined(separator: " "))
                pendingFold = nil
            }
        }
        for line in lines[(position + 1)...] {
            let length = line.end - line.start
            guard length > 0 else {
                throw SIPParseError(.malformedHeaderLine, line: line.number, "blank line inside the header")
            }
            let firstByte = text.utf8[text.utf8.index(base, offsetBy: line.start)]
            if firstByte == 0x20 || firstByte == 0x09 {
                // Continuation line (LWS folding): joined to the previous value with one SP.
                guard !fields.isEmpty else { throw SIPParseError(.malformedHeaderLine, line: line.number, "continuation line before any header") }
                if pendingFold == nil { pendingFold = (fields.count - 1, [fields[fields.count - 1].value]) }
                pendingFold!.parts.append(sub(line.start, line.end))
                let total = pendingFold!.parts.reduce(0) { $0 + $1.utf8.count }
                guard total <= limits.maxLineLength else {
                    throw SIPParseError(.lineTooLong(limit: limits.maxLineLength), line: line.number, "folded header longer than \(limits.maxLineLength)")
                }
                continue
            }
            flushFold()
            guard length <= limits.maxLineLength else {
                throw SIPParseError(.lineTooLong(limit: limits.maxLineLength), line: line.number, "header line longer than \(limits.maxLineLength)")
            }
            guard fields.count < limits.maxHeaderCount else {
                throw SIPParseError(.tooManyHeaders(limit: limits.maxHeaderCount), line: line.number, "more than \(limits.maxHeaderCount) header lines")
            }
            guard line.colon >= 0, line.colon < line.end else {
                throw SIPParseError(.malformedHeaderLine, line: line.number, "header line without ':'")
            }
            // HCOLON = *( SP / HTAB ) ":" SWS
            let rawName = sub(line.start, line.colon).trimmingWhitespace()
            guard SIPGrammar.isToken(rawName) else {
                throw SIPParseError(.malformedHeaderLine, line: line.number, "header name '\(rawName)' is not a token")
            }
            let value = sub(line.colon + 1, line.end).trimmingWhitespace()
            fields.append(SIPHeaderField(name: SIPHeaderName.lookup(rawName), value: value))
        }
        flushFold()
        return SIPMessageHead(startLine: startLine, headers: SIPHeaders(fields))
    }

    static func parseStartLine(_ line: Substring, line number: Int) throws(SIPParseError) -> SIPMessageHead.StartLine {
        let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        if line.utf8.starts(with: "SIP/".utf8) {
            // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
            guard parts.count >= 2 else { throw SIPParseError(.malformedStartLine, line: number, "status line '\(line)' lacks a status code") }
            try checkVersion(parts[0], line: number)
            guard parts[1].utf8.count == 3, let code = SIPGrammar.parseDecimal(parts[1], max: 699), code >= 100 else {
                throw SIPParseError(.invalidStatusCode, line: number, "status code '\(parts[1])' is not 100-699")
            }
            let reason = parts.count == 3 ? String(parts[2]) : ""
            return .response(Int(code), reason)
        }
        // Request-Line = Method SP Request-URI SP SIP-Version: exactly one SP between the three.
        let all = line.split(separator: " ", omittingEmptySubsequences: false)
        guard all.count == 3, !all[0].isEmpty, !all[1].isEmpty, !all[2].isEmpty else {
            throw SIPParseError(.malformedStartLine, line: number, "request line must be 'METHOD SP URI SP SIP/2.0' with single spaces, got '\(line)'")
        }
        guard SIPGrammar.isToken(all[0]) else {
            throw SIPParseError(.malformedStartLine, line: number, "method '\(all[0])' is not a token")
        }
        try checkVersion(all[2], line: number)
        let uri: SIPURI
        do {
            uri = try SIPURI(parsing: all[1])
        } catch {
            throw SIPParseError(.invalidRequestURI, line: number, "Request-URI '\(all[1])': \(error)")
        }
        // RFC 3261 §19.1.1 table: the headers component is not allowed in a Request-URI.
        if uri.headers != nil {
            throw SIPParseError(.invalidRequestURI, line: number, "Request-URI '\(all[1])' carries ?headers, not allowed in a Request-URI")
        }
        return .request(SIPMethod(String(all[0])), uri)
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
