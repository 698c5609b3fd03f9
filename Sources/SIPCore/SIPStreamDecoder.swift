import NIOCore

/// What the stream decoder yields: a message, or a keep-alive ping (RFC 5626 §3.5.1 double CRLF).
public enum SIPStreamFrame: Sendable {
    case message(SIPMessage)
    /// A CRLF CRLF ping; the server answers with a single CRLF pong.
    case keepAlivePing
}

/// Frames messages on a stream transport (TCP, TLS): RFC 3261 §18.3 requires Content-Length on streams, and
/// messages may arrive several per read or split over many reads. Bytes already scanned are not rescanned.
public struct SIPStreamDecoder: ByteToMessageDecoder {
    public typealias InboundOut = SIPStreamFrame

    public let limits: SIPParserLimits
    /// A head already parsed while its body is still arriving.
    private var pending: (head: SIPMessageHead, bodyLength: Int)? = nil
    /// How many readable bytes (from the reader index) were already searched for the head terminator.
    /// Relative, because the pipeline may compact the buffer between reads and move absolute indices.
    private var scannedBytes = 0
    private var leadingCRLF = 0

    public init(limits: SIPParserLimits = .default) { self.limits = limits }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try next(&buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }

    /// The framing step on its own, without NIO's pipeline, so it can be tested byte by byte.
    public mutating func next(_ buffer: inout ByteBuffer) throws(SIPParseError) -> SIPStreamFrame? {
        if let pending {
            guard buffer.readableBytes >= pending.bodyLength else { return nil }
            let body = buffer.readSlice(length: pending.bodyLength)!
            self.pending = nil
            return .message(pending.head.message(body: body))
        }
        // CRLFs between messages: a CRLF CRLF is a keep-alive ping (RFC 5626); a lone CRLF is ignored.
        while let byte = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self), byte == 0x0D || byte == 0x0A {
            buffer.moveReaderIndex(forwardBy: 1)
            if byte == 0x0A {
                leadingCRLF += 1
                if leadingCRLF == 2 {
                    leadingCRLF = 0
                    scannedBytes = 0
                    return .keepAlivePing
                }
            }
        }
        guard buffer.readableBytes > 0 else { return nil }
        leadingCRLF = 0
        let from = buffer.readerIndex + max(0, scannedBytes - 3)
        guard let end = SIPFraming.findHeadEnd(buffer, from: from) else {
            scannedBytes = buffer.readableBytes
            if buffer.readableBytes > limits.maxMessageSize {
                throw SIPParseError(.messageTooLarge(limit: limits.maxMessageSize), "header exceeds \(limits.maxMessageSize) bytes without a blank line")
            }
            return nil
        }
        let headLength = end - buffer.readerIndex
        let text = buffer.readString(length: headLength)!
        buffer.moveReaderIndex(forwardBy: 4)
        scannedBytes = 0
        let head = try SIPMessageParser.parseHead(text, limits: limits)
        guard let bodyLength = try head.contentLength() else {
            throw SIPParseError(.missingHeader(.contentLength), "Content-Length is mandatory on stream transports (RFC 3261 §18.3)")
        }
        guard headLength + 4 + bodyLength <= limits.maxMessageSize else {
            throw SIPParseError(.messageTooLarge(limit: limits.maxMessageSize), "message of \(headLength + 4 + bodyLength) bytes")
        }
        guard buffer.readableBytes >= bodyLength else {
            pending = (head, bodyLength)
            return nil
        }
        return .message(head.message(body: buffer.readSlice(length: bodyLength)!))
    }
}
