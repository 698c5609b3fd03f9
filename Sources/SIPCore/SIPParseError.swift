/// Why a message could not be read or is not acceptable, with the line it concerns. Only `.partial` means
/// "more bytes needed" (stream framing); every other code is final for that message.
public struct SIPParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Code: Equatable, Sendable {
        case partial
        case malformedStartLine
        case unsupportedVersion
        case invalidRequestURI
        case invalidStatusCode
        case malformedHeaderLine
        case invalidHeader(SIPHeaderName)
        case missingHeader(SIPHeaderName)
        case duplicateHeader(SIPHeaderName)
        case invalidContentLength
        case bodyTruncated
        case methodMismatch
        case messageTooLarge(limit: Int)
        case tooManyHeaders(limit: Int)
        case lineTooLong(limit: Int)
    }

    public var code: Code
    /// 1-based line of the message head, when known.
    public var line: Int?
    public var detail: String

    public init(_ code: Code, line: Int? = nil, _ detail: String) {
        self.code = code
        self.line = line
        self.detail = detail
    }

    /// The status a server answers with (RFC 3261 §8.2.2, §16.3, §21.5.6, §21.5.14).
    public var responseStatus: Int {
        switch code {
        case .unsupportedVersion: return 505
        case .messageTooLarge: return 513
        default: return 400
        }
    }

    public var description: String {
        var out = detail
        if let line { out = "line \(line): " + out }
        return out
    }
}

/// Bounds that keep hostile or broken input from costing unbounded memory.
public struct SIPParserLimits: Sendable, Hashable {
    /// Largest message (head + body) accepted.
    public var maxMessageSize: Int
    /// Most header lines in one message.
    public var maxHeaderCount: Int
    /// Longest single (unfolded) header line.
    public var maxLineLength: Int

    public init(maxMessageSize: Int = 65_535, maxHeaderCount: Int = 256, maxLineLength: Int = 16_384) {
        self.maxMessageSize = maxMessageSize
        self.maxHeaderCount = maxHeaderCount
        self.maxLineLength = maxLineLength
    }

    public static let `default` = SIPParserLimits()
}
