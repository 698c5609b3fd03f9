import SIPCore

/// How a message is matched to a transaction (RFC 3261 §17.1.3 for clients, §17.2.3 for servers): the top
/// Via branch (with the magic cookie), the sent-by for servers, and the method, where an ACK matches the
/// INVITE it acknowledges and CANCEL has its own transaction.
public struct TransactionKey: Hashable, Sendable {
    public var branch: String
    public var sentBy: String
    public var method: SIPMethod

    public init(branch: String, sentBy: String = "", method: SIPMethod) {
        self.branch = branch
        self.sentBy = sentBy
        self.method = method == .ack ? .invite : method
    }

    /// Key of the client transaction a response belongs to: top Via branch + CSeq method.
    public static func client(for response: SIPResponse) -> TransactionKey? {
        guard let via = try? response.topVia(), let branch = via.branch, let cseq = try? response.cseq() else { return nil }
        return TransactionKey(branch: branch, method: cseq.method)
    }

    /// Key of the server transaction a request belongs to: top Via branch + sent-by + method.
    public static func server(for request: SIPRequest) -> TransactionKey? {
        guard let via = try? request.topVia(), let branch = via.branch, branch.hasPrefix(SIPVia.magicCookie) else { return nil }
        let sentBy = via.port.map { "\(via.host.lowercased()):\($0)" } ?? via.host.lowercased()
        return TransactionKey(branch: branch, sentBy: sentBy, method: request.method)
    }
}
