import NIOCore

/// Writes messages in wire form. Content-Length is always written from the actual body, replacing any
/// header of that name, so a message can never announce a length it does not carry.
public enum SIPSerializer {
    public static func write(_ message: SIPMessage, into buffer: inout ByteBuffer) {
        switch message {
        case .request(let request): write(request, into: &buffer)
        case .response(let response): write(response, into: &buffer)
        }
    }

    public static func write(_ request: SIPRequest, into buffer: inout ByteBuffer) {
        buffer.writeString(request.method.rawValue)
        buffer.writeStaticString(" ")
        buffer.writeString(request.uri.description)
        buffer.writeStaticString(" SIP/2.0\r\n")
        writeHeaders(request.headers, body: request.body, into: &buffer)
    }

    public static func write(_ response: SIPResponse, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("SIP/2.0 ")
        buffer.writeString(String(response.statusCode))
        buffer.writeStaticString(" ")
        buffer.writeString(response.reasonPhrase)
        buffer.writeStaticString("\r\n")
        writeHeaders(response.headers, body: response.body, into: &buffer)
    }

    static func writeHeaders(_ headers: SIPHeaders, body: ByteBuffer, into buffer: inout ByteBuffer) {
        for field in headers where field.name != .contentLength {
            buffer.writeString(field.name.canonical)
            buffer.writeStaticString(": ")
            buffer.writeSubstring(field.value)
            buffer.writeStaticString("\r\n")
        }
        buffer.writeStaticString("Content-Length: ")
        buffer.writeString(String(body.readableBytes))
        buffer.writeStaticString("\r\n\r\n")
        var body = body
        buffer.writeBuffer(&body)
    }

    public static func bytes(_ message: SIPMessage) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(1024)
        write(message, into: &buffer)
        return buffer
    }

    /// The message as text (for traces and tests).
    public static func text(_ message: SIPMessage) -> String {
        let buffer = bytes(message)
        return buffer.getString(at: buffer.readerIndex, length: buffer.readableBytes) ?? ""
    }
}
