import NIOCore
import SIPCore
import SIPTransaction

/// The SIP transaction layer of one event loop: it owns that loop's client and server transactions, their
/// timers and its outgoing connections, and hands requests to its `SIPRequestHandler`. Everything here runs
/// on `eventLoop` only, so there is no lock and no actor hop per message; a process has one endpoint per loop.
public final class SIPEndpoint {
    public let eventLoop: any EventLoop
    public let timers: SIPTimers
    /// The host written in Via sent-by and in Contact.
    public let advertisedHost: String
    public let limits: SIPParserLimits
    public weak var handler: (any SIPRequestHandler)?
    public internal(set) var statistics = SIPEndpointStatistics()
    /// How long each outgoing stream connection took to open (TCP connect, plus the TLS handshake for TLS),
    /// in µs; at most 100,000 per endpoint.
    public internal(set) var connectDurationsMicros: [UInt64] = []
    /// The last transport failure seen (TLS handshake errors, say), for reports.
    public internal(set) var lastTransportError: String?
    public var identifiers = SIPIdentifiers()
    /// Opens a stream connection for a destination; set by `SIPTransportStack`.
    var connector: ((SIPDestination, SIPEndpoint) -> EventLoopFuture<any Channel>)?
    /// This loop's UDP socket for requests sent over UDP.
    var udpChannel: (any Channel)?
    /// The last UDP destination and its socket address (a load generator sends to one target: parsing its
    /// address once, not per message).
    var lastUDPDestination: (destination: SIPDestination, address: SocketAddress)?
    /// That socket's local port, read once.
    var udpLocalPort: Int?
    /// Called for every message sent or received (traces); nil costs nothing.
    public var tracer: ((SIPTraceEvent) -> Void)?
    let now: () -> NIODeadline

    var serverTransactions: [TransactionKey: ServerEntry] = [:]
    var clientTransactions: [TransactionKey: ClientEntry] = [:]
    /// Channels written since the last flush, and whether a flush is already queued on the loop.
    var unflushed: [ObjectIdentifier: any Channel] = [:]
    var flushScheduled = false
    /// Wake-ups of both kinds of transaction, in 10 ms slots.
    var wakeSlots = TransactionTimers()
    var connections: [SIPDestination: PooledConnection] = [:]
    /// INVITE server transactions that sent a 2xx, by Call-ID and CSeq number: the ACK for a 2xx has its own
    /// branch (RFC 3261 §13.2.2.4), so it is matched to the dialog's INVITE this way (RFC 6026 §8.7).
    var acceptedInvites: [AcceptedInviteKey: TransactionKey] = [:]

    public init(eventLoop: any EventLoop, advertisedHost: String, timers: SIPTimers = .rfc3261,
                limits: SIPParserLimits = .default, now: @escaping () -> NIODeadline = { NIODeadline.now() })
    {
        self.eventLoop = eventLoop
        self.advertisedHost = advertisedHost
        self.timers = timers
        self.limits = limits
        self.now = now
    }

    public var activeTransactionCount: Int { serverTransactions.count + clientTransactions.count }

    // MARK: - Receiving

    /// Entry point for every parsed message from any transport.
    public func receive(_ message: SIPMessage, flow: SIPFlow) {
        eventLoop.preconditionInEventLoop()
        statistics.messagesReceived += 1
        tracer?(SIPTraceEvent(direction: .received, message: message, flow: flow))
        switch message {
        case .request(let request):
            do {
                try SIPMessageValidator.validate(message)
            } catch {
                rejectMalformed(request, error: error, flow: flow)
                return
            }
            receiveRequest(request, flow: flow)
        case .response(let response):
            receiveResponse(response)
        }
    }

    /// A message that failed framing or parsing. On UDP it is dropped and counted; a request whose
    /// Via, From, To, Call-ID and CSeq could still be read gets a 400 naming the error.
    public func receiveMalformed(_ error: SIPParseError, flow: SIPFlow) {
        statistics.malformedReceived += 1
        if case .messageTooLarge = error.code { statistics.oversizedMessages += 1 }
    }

    func rejectMalformed(_ request: SIPRequest, error: SIPParseError, flow: SIPFlow) {
        statistics.malformedReceived += 1
        guard request.method != .ack, request.headers.contains(.via) else { return }
        // RFC 3261 §8.2.2 / §21.4.1: explain the problem in the reason phrase.
        let reason = error.responseStatus == 400 ? "Bad Request (\(error.detail))" : nil
        var response = SIPResponse(to: request, status: error.responseStatus, reason: reason?.replacingNewlines())
        response.headers.add(.server, "wasim")
        statistics.badRequestsAnswered += 1
        send(.response(response), on: flow, retransmission: false)
    }

    func receiveRequest(_ request: SIPRequest, flow: SIPFlow) {
        guard let key = TransactionKey.server(for: request) ?? TransactionKey.rfc2543(request) else {
            statistics.malformedReceived += 1
            return
        }
        let time = now()
        if request.method == .ack {
            var matched = key
            var entry = serverTransactions[key]
            if entry == nil, let accepted = AcceptedInviteKey(request), let inviteKey = acceptedInvites[accepted] {
                matched = inviteKey
                entry = serverTransactions[inviteKey]
            }
            guard let entry, case .invite = entry.machine else {
                handler?.endpoint(self, didReceiveAck: request, flow: flow)
                return
            }
            let actions = entry.machine.receive(request, now: time)
            performServer(actions, entry: entry, key: matched, retransmission: true)
            return
        }
        if let entry = serverTransactions[key] {
            // A retransmission (RFC 3261 §17.2.3 matched it to an existing transaction).
            let actions = entry.machine.receive(request, now: time)
            performServer(actions, entry: entry, key: key, retransmission: true)
            return
        }
        let reliable = flow.transport.isReliable
        if request.method == .invite {
            serverTransactions[key] = ServerEntry(machine: .invite(InviteServerTransaction(request: request, reliable: reliable, timers: timers, now: time)), flow: flow)
        } else {
            serverTransactions[key] = ServerEntry(machine: .nonInvite(NonInviteServerTransaction(request: request, reliable: reliable, timers: timers, now: time)), flow: flow)
        }
        if request.method == .cancel {
            receiveCancel(request, key: key, flow: flow)
            return
        }
        guard let handler else {
            // No user agent serves this endpoint (yet): say so at once rather than let the client's
            // Timer B run out (RFC 3261 §21.5.4).
            var response = SIPResponse(to: request, status: 503, toTag: identifiers.tag())
            response.headers.add("Retry-After", "1")
            respond(response, to: key)
            return
        }
        handler.endpoint(self, didReceive: request, transaction: key, flow: flow)
    }

    /// RFC 3261 §9.2: a CANCEL matches the INVITE server transaction with the same branch and sent-by. It
    /// is answered 200 when that transaction is still Proceeding, 481 otherwise.
    func receiveCancel(_ request: SIPRequest, key: TransactionKey, flow: SIPFlow) {
        let inviteKey = TransactionKey(branch: key.branch, sentBy: key.sentBy, method: .invite)
        var proceeding = false
        if let entry = serverTransactions[inviteKey], case .invite(let m) = entry.machine, m.state == .proceeding {
            proceeding = true
        }
        respond(SIPResponse(to: request, status: proceeding ? 200 : 481, toTag: identifiers.tag()), to: key)
        handler?.endpoint(self, didReceiveCancel: request, invite: proceeding ? inviteKey : nil, flow: flow)
    }

    func receiveResponse(_ response: SIPResponse) {
        guard let key = TransactionKey.client(for: response), let entry = clientTransactions[key] else {
            statistics.strayMessages += 1
            return
        }
        let actions = entry.machine.receive(response, now: now())
        performClient(actions, entry: entry, key: key)
    }

    // MARK: - Server side

    /// Sends a response through its server transaction, which retransmits it as RFC 3261 §17.2 requires.
    public func respond(_ response: SIPResponse, to key: ServerTransactionID) {
        eventLoop.preconditionInEventLoop()
        guard let entry = serverTransactions[key] else { return }
        if response.isSuccess, case .invite(let m) = entry.machine, m.state == .proceeding, let accepted = AcceptedInviteKey(m.request) {
            acceptedInvites[accepted] = key
            entry.accepted = accepted
        }
        let actions = entry.machine.respond(response, now: now())
        performServer(actions, entry: entry, key: key, retransmission: false)
    }

    /// The request of a server transaction, while it still has it (until its final response is sent).
    public func request(of key: ServerTransactionID) -> SIPRequest? {
        guard let request = serverTransactions[key]?.machine.request, !request.isReleased else { return nil }
        return request
    }

    /// True when an INVITE server transaction has not yet sent a final response.
    public func isProceeding(_ key: ServerTransactionID) -> Bool {
        if case .invite(let m) = serverTransactions[key]?.machine { return m.state == .proceeding }
        return false
    }

    func performServer(_ actions: [TransactionAction], entry: ServerEntry, key: TransactionKey, retransmission: Bool) {
        for action in actions {
            switch action {
            case .send(let message):
                send(message, on: entry.flow, retransmission: retransmission)
            case .deliverAck(let ack):
                handler?.endpoint(self, didReceiveAck: ack, flow: entry.flow)
            case .timeout:
                statistics.transactionTimeouts += 1
                handler?.endpoint(self, ackTimeoutFor: key)
            case .terminated:
                if let accepted = entry.accepted, acceptedInvites[accepted] == key { acceptedInvites[accepted] = nil }
                if serverTransactions[key] === entry { serverTransactions[key] = nil }
                return
            case .deliverResponse, .transportError:
                break
            }
        }
        scheduleServerWake(entry, key: key)
    }

    func scheduleServerWake(_ entry: ServerEntry, key: TransactionKey) {
        guard let deadline = entry.machine.nextDeadline else { return }
        let slot = NIODeadline.uptimeNanoseconds(TransactionTimers.slot(for: deadline))
        if let scheduled = entry.scheduled, scheduled <= slot { return }
        entry.scheduled = slot
        wake(.server(key), at: deadline)
    }

    /// Flushes every channel written since the last flush (end of a read batch, or the loop's queued task).
    func flushPending() {
        flushScheduled = false
        guard !unflushed.isEmpty else { return }
        for channel in unflushed.values { channel.flush() }
        unflushed.removeAll(keepingCapacity: true)
    }

    /// Files a transaction under its deadline's 10 ms slot; the slot's first entry schedules its wake-up.
    func wake(_ owner: TransactionTimers.Owner, at deadline: NIODeadline) {
        let (slot, isNew) = wakeSlots.add(owner, deadline: deadline)
        guard isNew else { return }
        let at = NIODeadline.uptimeNanoseconds(slot)
        eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(deadline: at) { [self] in
            for owner in wakeSlots.take(slot) {
                switch owner {
                case .client(let key): clientTimerFired(key, slot: at)
                case .server(let key): serverTimerFired(key, slot: at)
                }
            }
        }
    }

    /// A server transaction's slot came: its timers run, unless it ended or was filed under another slot.
    func serverTimerFired(_ key: TransactionKey, slot: NIODeadline) {
        guard let entry = serverTransactions[key], entry.scheduled == slot else { return }
        entry.scheduled = nil
        let actions = entry.machine.timeout(now: now())
        performServer(actions, entry: entry, key: key, retransmission: true)
    }

    // MARK: - Sending

    /// Serializes and writes one message on a flow.
    public func send(_ message: SIPMessage, on flow: SIPFlow, retransmission: Bool = false) {
        var buffer = flow.channel.allocator.buffer(capacity: 1024)
        SIPSerializer.write(message, into: &buffer)
        statistics.messagesSent += 1
        if retransmission { statistics.retransmissionsSent += 1 }
        tracer?(SIPTraceEvent(direction: .sent, message: message, flow: flow))
        flow.enqueue(buffer)
        unflushed[ObjectIdentifier(flow.channel)] = flow.channel
        if !flushScheduled {
            // Everything this loop sends until its current tasks are done goes out in one flush per channel.
            flushScheduled = true
            eventLoop.assumeIsolatedUnsafeUnchecked().execute { [self] in flushPending() }
        }
    }
}

/// Call-ID and CSeq number of an INVITE, to match the ACK of its 2xx.
struct AcceptedInviteKey: Hashable {
    var callID: String
    var sequence: UInt32

    init?(_ request: SIPRequest) {
        guard let callID = request.callID, let cseq = try? request.cseq() else { return nil }
        self.callID = String(callID)
        self.sequence = cseq.sequence
    }
}

/// One message crossing the endpoint, for traces.
public struct SIPTraceEvent: Sendable {
    public enum Direction: String, Sendable { case sent, received }
    public var direction: Direction
    public var message: SIPMessage
    public var flow: SIPFlow
}

extension String {
    func replacingNewlines() -> String {
        String(self.map { $0 == "\r" || $0 == "\n" ? " " : $0 })
    }
}

extension TransactionKey {
    /// RFC 3261 §17.2.3: requests without the magic cookie are matched on the RFC 2543 fields.
    static func rfc2543(_ request: SIPRequest) -> TransactionKey? {
        guard let callID = request.callID, let cseq = try? request.cseq(), let from = try? request.from() else { return nil }
        let via = (try? request.topVia())?.description ?? ""
        return TransactionKey(branch: "rfc2543|\(callID)|\(cseq.sequence)|\(from.tag ?? "")|\(via)", method: request.method)
    }
}
