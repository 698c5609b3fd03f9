import NIOCore
import SIPCore
import SIPTransaction

/// Stored per server transaction: a reference, so the endpoint works on it in place (no copy of the
/// machine out of the table and back per input).
final class ServerEntry {
    /// Either server machine, with one entry point per input so the endpoint does not switch on the kind.
    enum Machine {
        case invite(InviteServerTransaction)
        case nonInvite(NonInviteServerTransaction)

        var nextDeadline: NIODeadline? {
            switch self {
            case .invite(let m): return m.nextDeadline
            case .nonInvite(let m): return m.nextDeadline
            }
        }

        var request: SIPRequest {
            switch self {
            case .invite(let m): return m.request
            case .nonInvite(let m): return m.request
            }
        }

        mutating func receive(_ request: SIPRequest, now: NIODeadline) -> [TransactionAction] {
            switch self {
            case .invite(var m): defer { self = .invite(m) }; return m.receive(request, now: now)
            case .nonInvite(var m): defer { self = .nonInvite(m) }; return m.receive(request, now: now)
            }
        }

        mutating func respond(_ response: SIPResponse, now: NIODeadline) -> [TransactionAction] {
            switch self {
            case .invite(var m): defer { self = .invite(m) }; return m.respond(response, now: now)
            case .nonInvite(var m): defer { self = .nonInvite(m) }; return m.respond(response, now: now)
            }
        }

        mutating func timeout(now: NIODeadline) -> [TransactionAction] {
            switch self {
            case .invite(var m): defer { self = .invite(m) }; return m.timeout(now: now)
            case .nonInvite(var m): defer { self = .nonInvite(m) }; return m.timeout(now: now)
            }
        }
    }

    var machine: Machine
    let flow: SIPFlow
    var scheduled: NIODeadline? = nil
    /// For an INVITE answered 2xx: how its ACK is matched (RFC 6026 §8.7), forgotten when it ends.
    var accepted: AcceptedInviteKey?

    init(machine: Machine, flow: SIPFlow) {
        self.machine = machine
        self.flow = flow
    }
}

/// Stored per client transaction, by reference like `ServerEntry`.
final class ClientEntry {
    /// Either client machine, with one entry point per input.
    enum Machine {
        case invite(InviteClientTransaction)
        case nonInvite(NonInviteClientTransaction)

        var nextDeadline: NIODeadline? {
            switch self {
            case .invite(let m): return m.nextDeadline
            case .nonInvite(let m): return m.nextDeadline
            }
        }

        mutating func receive(_ response: SIPResponse, now: NIODeadline) -> [TransactionAction] {
            switch self {
            case .invite(var m): defer { self = .invite(m) }; return m.receive(response, now: now)
            case .nonInvite(var m): defer { self = .nonInvite(m) }; return m.receive(response, now: now)
            }
        }

        mutating func timeout(now: NIODeadline) -> [TransactionAction] {
            switch self {
            case .invite(var m): defer { self = .invite(m) }; return m.timeout(now: now)
            case .nonInvite(var m): defer { self = .nonInvite(m) }; return m.timeout(now: now)
            }
        }

        mutating func transportFailed() -> [TransactionAction] {
            switch self {
            case .invite(var m): defer { self = .invite(m) }; return m.transportFailed()
            case .nonInvite(var m): defer { self = .nonInvite(m) }; return m.transportFailed()
            }
        }
    }

    var machine: Machine
    let flow: SIPFlow
    let handler: (ClientTransactionEvent) -> Void
    var scheduled: NIODeadline? = nil

    init(machine: Machine, flow: SIPFlow, handler: @escaping (ClientTransactionEvent) -> Void) {
        self.machine = machine
        self.flow = flow
        self.handler = handler
    }
}

/// An outgoing stream connection of the pool.
enum PooledConnection {
    case connecting([(SIPFlow?, String?) -> Void])
    case ready(SIPFlow)
}

extension SIPEndpoint {
    /// Sends a request in a new client transaction towards `destination`, over a pooled connection (one per
    /// destination and `connectionTag`). A top Via with a new branch is added unless the request has one
    /// (a CANCEL reuses its INVITE's). `handler` gets provisional and final responses, or the failure.
    /// `started` receives the transaction's branch once it exists (to CANCEL an INVITE later).
    public func sendRequest(_ request: SIPRequest, to destination: SIPDestination,
                            started: ((String) -> Void)? = nil,
                            handler: @escaping (ClientTransactionEvent) -> Void)
    {
        eventLoop.preconditionInEventLoop()
        flow(for: destination) { [self] flow, failure in
            guard let flow else {
                statistics.transportErrors += 1
                handler(.transportError(failure ?? "no connection"))
                return
            }
            sendRequest(request, on: flow, started: started, handler: handler)
        }
    }

    /// Sends a request in a new client transaction on an existing flow (a dialog's connection).
    public func sendRequest(_ request: SIPRequest, on flow: SIPFlow, started: ((String) -> Void)? = nil,
                            handler: @escaping (ClientTransactionEvent) -> Void)
    {
        var request = request
        let key: TransactionKey
        if request.headers.contains(.via) {
            // A CANCEL carries its INVITE's Via (and branch) already.
            guard let existing = TransactionKey.client(forRequest: request) else {
                handler(.transportError("request without a Via branch or CSeq"))
                return
            }
            key = existing
        } else {
            let branch = identifiers.branch()
            request.headers.prepend(.via, via(flow: flow, branch: branch))
            key = TransactionKey(branch: branch, method: request.method)
        }
        if !request.headers.contains(.maxForwards) { request.headers.add(.maxForwards, "70") }
        let time = now()
        let reliable = flow.transport.isReliable
        let machine: ClientEntry.Machine
        let start: [TransactionAction]
        if request.method == .invite {
            let m = InviteClientTransaction(request: request, reliable: reliable, timers: timers, now: time)
            start = m.startActions
            machine = .invite(m)
        } else {
            let m = NonInviteClientTransaction(request: request, reliable: reliable, timers: timers, now: time)
            start = m.startActions
            machine = .nonInvite(m)
        }
        let entry = ClientEntry(machine: machine, flow: flow, handler: handler)
        clientTransactions[key] = entry
        started?(key.branch)
        performClient(start, entry: entry, key: key, initial: true)
    }

    /// Cancels the INVITE client transaction with this branch (RFC 3261 §9.1): a CANCEL with the same
    /// branch, in its own non-INVITE transaction on the same flow. Returns false when there is nothing to
    /// cancel (no such transaction, or a final response already arrived).
    @discardableResult
    public func cancelInvite(branch: String, handler: @escaping (ClientTransactionEvent) -> Void = { _ in }) -> Bool {
        guard let entry = clientTransactions[TransactionKey(branch: branch, method: .invite)],
              case .invite(let machine) = entry.machine, machine.state == .calling || machine.state == .proceeding
        else { return false }
        sendRequest(machine.makeCancel(), on: entry.flow, handler: handler)
        return true
    }

    /// Lets go of an INVITE client transaction still waiting for its final response (a target that ignored
    /// the CANCEL for 64 × T1, RFC 3261 §9.1): its handler gets nothing more, and late responses are
    /// dropped as strays. A transaction that already has its final response is left to end by its timers.
    @discardableResult
    public func abandonInvite(branch: String) -> Bool {
        let key = TransactionKey(branch: branch, method: .invite)
        guard let entry = clientTransactions[key], case .invite(let machine) = entry.machine,
              machine.state == .calling || machine.state == .proceeding
        else { return false }
        clientTransactions[key] = nil
        return true
    }

    /// Sends a request with no transaction: the ACK for a 2xx (RFC 3261 §13.2.2.4), sent by the UAC core.
    public func sendAck(_ ack: SIPRequest, on flow: SIPFlow) {
        var ack = ack
        if !ack.headers.contains(.via) { ack.headers.prepend(.via, via(flow: flow, branch: identifiers.branch())) }
        if !ack.headers.contains(.maxForwards) { ack.headers.add(.maxForwards, "70") }
        send(.request(ack), on: flow)
    }

    /// Via for a request leaving on `flow`: our advertised host, the local port, a new branch, `rport`
    /// (RFC 3581), and `alias` on streams (RFC 5923) as Meta's own requests carry.
    public func makeVia(flow: SIPFlow) -> SIPVia {
        var via = SIPVia(transport: flow.transport.viaToken, host: advertisedHost, port: localPort(of: flow), branch: identifiers.branch())
        if flow.transport.isReliable { via.parameters.items.append(SIPParameter("alias", nil)) }
        return via
    }

    /// The same Via as text, written directly: a request per call needs one, and no parameter list is built.
    func via(flow: SIPFlow, branch: String) -> String {
        var out = "SIP/2.0/"
        out.reserveCapacity(48 + advertisedHost.utf8.count + branch.utf8.count)
        out += flow.transport.viaToken
        out += " "
        out += advertisedHost
        if let port = localPort(of: flow) {
            out += ":"
            out += String(port)
        }
        out += ";branch="
        out += branch
        out += flow.transport.isReliable ? ";rport;alias" : ";rport"
        return out
    }

    /// The local port of a flow; this loop's UDP socket's is read once (a channel's address sits behind a
    /// lock).
    func localPort(of flow: SIPFlow) -> Int? {
        if flow.transport == .udp, let udp = udpChannel, flow.channel === udp {
            if udpLocalPort == nil { udpLocalPort = udp.localAddress?.port }
            return udpLocalPort
        }
        return flow.channel.localAddress?.port
    }

    func performClient(_ actions: [TransactionAction], entry: ClientEntry, key: TransactionKey, initial: Bool = false) {
        for action in actions {
            switch action {
            case .send(let message):
                send(message, on: entry.flow, retransmission: !initial && !isAck(message))
            case .deliverResponse(let response):
                entry.handler(.response(response))
            case .timeout:
                statistics.transactionTimeouts += 1
                entry.handler(.timeout)
            case .transportError:
                statistics.transportErrors += 1
                entry.handler(.transportError("transport failed"))
            case .terminated:
                if clientTransactions[key] === entry { clientTransactions[key] = nil }
                return
            case .deliverAck:
                break
            }
        }
        scheduleClientWake(entry, key: key)
    }

    private func isAck(_ message: SIPMessage) -> Bool {
        if case .request(let r) = message { return r.method == .ack }
        return false
    }

    func scheduleClientWake(_ entry: ClientEntry, key: TransactionKey) {
        guard let deadline = entry.machine.nextDeadline else { return }
        let slot = NIODeadline.uptimeNanoseconds(TransactionTimers.slot(for: deadline))
        if let scheduled = entry.scheduled, scheduled <= slot { return }
        entry.scheduled = slot
        wake(.client(key), at: deadline)
    }

    /// A client transaction's slot came: its timers run, unless it ended or was filed under another slot.
    func clientTimerFired(_ key: TransactionKey, slot: NIODeadline) {
        guard let entry = clientTransactions[key], entry.scheduled == slot else { return }
        entry.scheduled = nil
        let actions = entry.machine.timeout(now: now())
        performClient(actions, entry: entry, key: key)
    }

    /// A stream connection closed: its client transactions fail (RFC 3261 §8.1.3.1 transport error) and it
    /// leaves the pool.
    func connectionClosed(_ channel: any Channel) {
        for (destination, pooled) in connections {
            if case .ready(let flow) = pooled, ObjectIdentifier(flow.channel) == ObjectIdentifier(channel) {
                connections[destination] = nil
            }
        }
        let affected = clientTransactions.filter { ObjectIdentifier($0.value.flow.channel) == ObjectIdentifier(channel) }
        for (key, entry) in affected where clientTransactions[key] === entry {
            let actions = entry.machine.transportFailed()
            performClient(actions, entry: entry, key: key)
        }
    }

    /// The flow for a destination: this loop's UDP socket, or a pooled stream connection (opened on demand;
    /// callers that arrive while it is connecting wait for it).
    public func flow(for destination: SIPDestination, _ completion: @escaping (SIPFlow?, String?) -> Void) {
        if destination.transport == .udp {
            guard let udp = udpChannel else { completion(nil, "no UDP socket on this endpoint"); return }
            if let last = lastUDPDestination, last.destination == destination {
                completion(SIPFlow(transport: .udp, channel: udp, remote: last.address), nil)
                return
            }
            do {
                let address = try SocketAddress(ipAddress: destination.host, port: destination.port)
                lastUDPDestination = (destination, address)
                completion(SIPFlow(transport: .udp, channel: udp, remote: address), nil)
            } catch {
                completion(nil, "UDP destination must be an IP address: \(destination.host)")
            }
            return
        }
        switch connections[destination] {
        case .ready(let flow):
            completion(flow, nil)
        case .connecting(var waiters):
            waiters.append(completion)
            connections[destination] = .connecting(waiters)
        case nil:
            guard let connector else { completion(nil, "no connector for \(destination.transport)"); return }
            connections[destination] = .connecting([completion])
            let began = now()
            let future = connector(destination, self)
            future.hop(to: eventLoop).assumeIsolatedUnsafeUnchecked().whenComplete { [self] result in
                guard case .connecting(let waiters) = connections[destination] else { return }
                switch result {
                case .success(let channel):
                    if connectDurationsMicros.count < 100_000 {
                        connectDurationsMicros.append(UInt64(max(0, (now() - began).nanoseconds / 1000)))
                    }
                    let remote = channel.remoteAddress ?? (try! SocketAddress(ipAddress: "0.0.0.0", port: 0))
                    let flow = SIPFlow(transport: destination.transport, channel: channel, remote: remote)
                    connections[destination] = .ready(flow)
                    for waiter in waiters { waiter(flow, nil) }
                case .failure(let error):
                    connections[destination] = nil
                    for waiter in waiters { waiter(nil, "\(TransportFailure.describe(error)) (\(destination))") }
                }
            }
        }
    }

    /// Closes every pooled outgoing connection.
    public func closeConnections() {
        for (_, pooled) in connections {
            if case .ready(let flow) = pooled { flow.channel.close(promise: nil) }
        }
        connections.removeAll()
    }
}

extension TransactionKey {
    /// Key of the client transaction a request we send creates.
    static func client(forRequest request: SIPRequest) -> TransactionKey? {
        guard let via = try? request.topVia(), let branch = via.branch, let cseq = try? request.cseq() else { return nil }
        return TransactionKey(branch: branch, method: cseq.method)
    }
}

extension SIPEndpoint {
    /// Closes the pooled connection to one destination (a user agent's own connection, at call end).
    public func closeConnection(to destination: SIPDestination) {
        if case .ready(let flow) = connections.removeValue(forKey: destination) {
            flow.channel.close(promise: nil)
        }
    }
}
