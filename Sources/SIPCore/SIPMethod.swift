/// A request method (RFC 3261 §7.1, `Method = INVITEm / ... / extension-method`). Methods are
/// case-sensitive tokens.
public struct SIPMethod: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let rawValue: String

    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    public var description: String { rawValue }

    public static let invite: SIPMethod = "INVITE"
    public static let ack: SIPMethod = "ACK"
    public static let bye: SIPMethod = "BYE"
    public static let cancel: SIPMethod = "CANCEL"
    public static let options: SIPMethod = "OPTIONS"
    public static let register: SIPMethod = "REGISTER"
    public static let notify: SIPMethod = "NOTIFY"
    public static let subscribe: SIPMethod = "SUBSCRIBE"
    public static let info: SIPMethod = "INFO"
    public static let update: SIPMethod = "UPDATE"
    public static let prack: SIPMethod = "PRACK"
    public static let refer: SIPMethod = "REFER"
    public static let message: SIPMethod = "MESSAGE"

    static let known: [SIPMethod] = [.invite, .ack, .bye, .cancel, .options, .register, .notify, .subscribe, .info, .update, .prack, .refer, .message]

    /// The method named by `token` as read from the wire: one of the known methods (their literal strings,
    /// nothing made) or a new one.
    public init(known token: Substring) {
        for method in SIPMethod.known where token.utf8.elementsEqual(method.rawValue.utf8) {
            self = method
            return
        }
        self.init(String(token))
    }
}
