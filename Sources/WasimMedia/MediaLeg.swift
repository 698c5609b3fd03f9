import Foundation

/// How a call's media is secured.
public enum MediaSecurity: Sendable {
    /// SDES (RFC 4568): keys from the `a=crypto` lines, SRTP from the first packet.
    case sdes(profile: SRTPProfile, local: [UInt8], remote: [UInt8])
    /// DTLS-SRTP (RFC 5763/5764) after ICE: `dtlsRole` from the SDP `a=setup` exchange.
    case dtls(context: DTLSContext, dtlsRole: DTLSSession.Role, remoteFingerprint: String?)
}

/// One side of a call's media, with no I/O: datagrams and time in, datagrams and events out. It runs
/// ICE (ICE-lite controlled for Meta, controlling for the business), DTLS-SRTP or SDES, paces RTP every
/// `ptime` with synthetic Opus-sized payloads that carry a frame number, and measures when media started
/// and how much audio at the start never arrived (clipping). Meta's rules (spec §5.1, §8): the Meta side
/// sends nothing before the business's first SRTP packet, and reports a media timeout after 20 s without
/// media at the start or 30 s mid-call.
public final class MediaLeg {
    public enum Side: Sendable { case meta, business }

    /// The mock's clipping knobs (spec §5.5): lose the first ClientHellos, or DTLS that comes before the
    /// ICE nomination, as a slow or strict peer would.
    public struct Impairment: Sendable, Hashable {
        public var dropClientHellos = 0
        public var dropDTLSBeforeNomination = false
        public init(dropClientHellos: Int = 0, dropDTLSBeforeNomination: Bool = false) {
            self.dropClientHellos = dropClientHellos
            self.dropDTLSBeforeNomination = dropDTLSBeforeNomination
        }
    }

    /// What happened, for the call's owner.
    public enum Event: Sendable, Equatable {
        case iceNominated
        case secured
        case firstMediaReceived
        /// No media from the peer for `seconds` (20 s at the start, 30 s mid-call on Meta's side).
        case mediaTimeout(atStart: Bool)
        case failed(String)
    }

    /// Measurements of this side (seconds from `start(now:)` unless said otherwise).
    public struct Metrics: Sendable, Equatable {
        public var iceCheckSeconds: Double?
        public var dtlsHandshakeSeconds: Double?
        public var clientHelloRetransmissions = 0
        /// First decrypted packet from the peer.
        public var mediaStartSeconds: Double?
        /// Audio the peer produced before its first packet that we decrypted: frames × ptime.
        public var clippedMilliseconds: Double?
        public var packetsSent = 0
        public var packetsReceived = 0
        public var packetsUndecryptable = 0
        /// Frames produced before SRTP keys existed (never sent).
        public var framesLostBeforeKeys = 0
        /// Frames not sent because the event loop ran too late to send them in time.
        public var framesSkippedLate = 0
        public var dtlsDropped = 0
    }

    public let side: Side
    public let ptime: Double
    public private(set) var metrics = Metrics()
    public var remote: (address: [UInt8], port: UInt16)
    let security: MediaSecurity
    let impairment: Impairment
    var iceLite: ICELiteResponder?
    var iceControlling: ICEControllingAgent?
    var dtls: DTLSSession?
    var outbound: SRTPSession?
    var inbound: SRTPSession?
    var startedAt: Double = 0
    var audioStart: Double?
    var nextFrameAt: Double?
    var frame: UInt32 = 0
    var sequence: UInt16
    var timestamp: UInt32
    let ssrc: UInt32
    var lastReceivedAt: Double?
    var nextCheckAt: Double?
    var nextDTLSWake: Double?
    var timedOut = false
    var events: [Event] = []
    /// `probe` mode: full-rate audio for this many seconds after the audio starts, then one keep-alive
    /// frame every `keepAliveInterval` (so a watchdog sees a live peer at a fraction of the packet rate).
    public var probeSeconds: Double?
    public var keepAliveInterval: Double = 10
    /// Seconds without media from the peer before Meta's side reports a timeout: at the start (spec §8: 20 s)
    /// and mid-call (30 s).
    public var mediaStartTimeout: Double = 20
    public var mediaTimeout: Double = 30
    /// Seconds before the first DTLS retransmission (then doubling: 1 s, 2 s, 4 s by default).
    public var dtlsInitialRetransmit: Double = 1
    var firstSentAt: Double?

    /// - Parameters:
    ///   - ice: local and remote ICE credentials (nil without ICE: SDES, or DTLS without ICE).
    public init(side: Side, security: MediaSecurity, remote: (address: [UInt8], port: UInt16),
                ice: (localUfrag: String, localPwd: String, remoteUfrag: String, remotePwd: String)?,
                impairment: Impairment = Impairment(), ptime: Double = 0.020, seed: UInt64 = 1)
    {
        self.side = side
        self.security = security
        self.remote = remote
        self.impairment = impairment
        self.ptime = ptime
        var mix = seed &* 0x9E37_79B9_7F4A_7C15
        mix ^= mix >> 29
        ssrc = UInt32(truncatingIfNeeded: mix) | 1
        sequence = UInt16(truncatingIfNeeded: mix >> 32)
        timestamp = UInt32(truncatingIfNeeded: mix >> 16)
        if let ice {
            if side == .meta {
                iceLite = ICELiteResponder(localUfrag: ice.localUfrag, localPwd: ice.localPwd)
            } else {
                iceControlling = ICEControllingAgent(localUfrag: ice.localUfrag, localPwd: ice.localPwd, remoteUfrag: ice.remoteUfrag,
                                                     remotePwd: ice.remotePwd, tieBreaker: mix)
            }
        }
    }

    /// The call is answered: start ICE (business), SDES keys, and the business's audio clock.
    public func start(now: Double) -> [[UInt8]] {
        startedAt = now
        if case .sdes(let profile, let local, let remote) = security {
            outbound = try? SRTPSession(profile: profile, keyAndSalt: local, direction: .outbound)
            inbound = try? SRTPSession(profile: profile, keyAndSalt: remote, direction: .inbound)
            if outbound == nil || inbound == nil { fail("SDES keys rejected by libsrtp2") }
            else { events.append(.secured) }
        }
        // The business produces audio from the answer on; Meta only after the business's first packet.
        if side == .business { audioStart = now; nextFrameAt = now }
        var out: [[UInt8]] = []
        if iceControlling != nil {
            nextCheckAt = now
            out += due(now: now)
        } else if case .dtls = security, side == .business {
            out += startDTLS(now: now)
        }
        return out
    }

    /// Events since the last call.
    public func takeEvents() -> [Event] {
        defer { events.removeAll() }
        return events
    }

    /// When `due(now:)` should run next.
    public var nextWake: Double? {
        [nextFrameAt, nextCheckAt, nextDTLSWake, timeoutAt].compactMap { $0 }.min()
    }

    var timeoutAt: Double? {
        guard side == .meta, !timedOut else { return nil }
        return (lastReceivedAt ?? startedAt) + (lastReceivedAt == nil ? mediaStartTimeout : mediaTimeout)
    }

    /// Timers: ICE checks, DTLS retransmissions, the next RTP frame, the media watchdog.
    public func due(now: Double) -> [[UInt8]] {
        var out: [[UInt8]] = []
        if let at = nextCheckAt, now >= at, var agent = iceControlling {
            if let check = agent.nextCheck() { out.append(check) }
            iceControlling = agent
            nextCheckAt = agent.state == .nominated ? nil : now + 0.2
            if agent.checksSent > 50 { fail("ICE: no answer to 50 connectivity checks"); nextCheckAt = nil }
        }
        if let at = nextDTLSWake, now >= at, let dtls {
            out += dtls.retransmitDue()
            metrics.clientHelloRetransmissions = dtls.role == .client ? dtls.retransmissions : metrics.clientHelloRetransmissions
            nextDTLSWake = dtls.retransmitDelay.map { now + $0 }
        }
        if let at = nextFrameAt, now - at > 5 * ptime {
            // Far behind (an overloaded loop): a real sender does not burst to catch up; the frames of the
            // gap are skipped (their numbers too, so the receiver's count stays honest).
            let missed = Int((now - at) / ptime)
            frame &+= UInt32(missed)
            timestamp &+= UInt32(48_000 * ptime) &* UInt32(missed)
            metrics.framesSkippedLate += missed
            nextFrameAt = at + Double(missed) * ptime
        }
        while let at = nextFrameAt, now >= at {
            out += sendFrame(now: now)
            // The probe window runs from the first packet actually sent, so late keys still get measured.
            if let probeSeconds, let firstSentAt, at >= firstSentAt + probeSeconds {
                nextFrameAt = max(at + keepAliveInterval, now)
            } else {
                nextFrameAt = at + ptime
            }
        }
        if let at = timeoutAt, now >= at {
            timedOut = true
            events.append(.mediaTimeout(atStart: lastReceivedAt == nil))
        }
        return out
    }

    /// A datagram from the peer (RFC 7983 demultiplexing by the first byte).
    public func receive(_ bytes: [UInt8], from address: [UInt8], port: UInt16, now: Double) -> [[UInt8]] {
        guard let first = bytes.first else { return [] }
        switch first {
        case 0...3: return receiveSTUN(bytes, from: address, port: port, now: now)
        case 20...63: return receiveDTLS(bytes, now: now)
        case 128...191: return receiveRTP(bytes, from: address, port: port, now: now)
        default: return []
        }
    }

    private func receiveSTUN(_ bytes: [UInt8], from address: [UInt8], port: UInt16, now: Double) -> [[UInt8]] {
        if var lite = iceLite {
            let reply = lite.receive(bytes, from: address, port: port)
            iceLite = lite
            if reply.nominatedNow {
                remote = (address, port)
                metrics.iceCheckSeconds = now - startedAt
                events.append(.iceNominated)
                // Meta as the DTLS client (the business answered setup:passive) starts once nominated.
                if case .dtls(_, .client, _) = security {
                    return (reply.response.map { [$0] } ?? []) + startDTLS(now: now)
                }
            }
            if let problem = reply.problem, problem.contains("Role") { events.append(.failed("ICE: \(problem)")) }
            return reply.response.map { [$0] } ?? []
        }
        if var agent = iceControlling {
            let before = agent.state
            agent.receive(bytes)
            iceControlling = agent
            if agent.state != before {
                switch agent.state {
                case .validated: nextCheckAt = now
                case .nominated:
                    metrics.iceCheckSeconds = now - startedAt
                    events.append(.iceNominated)
                    return startDTLS(now: now) + due(now: now)
                case .failed(let why): fail("ICE: \(why)")
                default: break
                }
                return due(now: now)
            }
        }
        return []
    }

    private func startDTLS(now: Double) -> [[UInt8]] {
        guard case .dtls(let context, let role, let fingerprint) = security, dtls == nil else { return [] }
        do {
            let session = try DTLSSession(context: context, role: role, expectedFingerprint: fingerprint, initialRetransmit: dtlsInitialRetransmit)
            dtls = session
            dtlsStartedAt = now
            let out = session.start()
            nextDTLSWake = session.retransmitDelay.map { now + $0 }
            return out
        } catch {
            fail("DTLS: \(error)")
            return []
        }
    }

    var dtlsStartedAt: Double?
    var clientHellosSeen = 0

    private func receiveDTLS(_ bytes: [UInt8], now: Double) -> [[UInt8]] {
        guard case .dtls(_, let role, _) = security else { return [] }
        // A ClientHello is a handshake record (22) carrying handshake type 1 at offset 13.
        let isClientHello = bytes.count > 13 && bytes[0] == 22 && bytes[13] == 1
        if side == .meta {
            if impairment.dropDTLSBeforeNomination, iceLite != nil, iceLite?.nominated == nil {
                metrics.dtlsDropped += 1
                return []
            }
            if isClientHello, clientHellosSeen < impairment.dropClientHellos {
                clientHellosSeen += 1
                metrics.dtlsDropped += 1
                return []
            }
        }
        if dtls == nil {
            // The passive side starts when the first flight arrives.
            guard role == .server else { return [] }
            _ = startDTLS(now: now)
        }
        guard let session = dtls else { return [] }
        let out = session.receive(bytes)
        nextDTLSWake = session.retransmitDelay.map { now + $0 }
        switch session.state {
        case .connected(let keys) where outbound == nil:
            do {
                outbound = try SRTPSession(profile: keys.profile, keyAndSalt: keys.local, direction: .outbound)
                inbound = try SRTPSession(profile: keys.profile, keyAndSalt: keys.remote, direction: .inbound)
                metrics.dtlsHandshakeSeconds = now - (dtlsStartedAt ?? now)
                if role == .client { metrics.clientHelloRetransmissions = session.retransmissions }
                nextDTLSWake = nil
                events.append(.secured)
            } catch {
                fail("SRTP from DTLS keys: \(error)")
            }
        case .failed(let why):
            fail(why)
        default:
            break
        }
        return out
    }

    private func receiveRTP(_ bytes: [UInt8], from address: [UInt8], port: UInt16, now: Double) -> [[UInt8]] {
        guard bytes.count >= 12 else { return [] }
        let payloadType = bytes[1] & 0x7F
        let isRTCP = payloadType >= 72 && payloadType <= 76
        guard let inbound else {
            metrics.packetsUndecryptable += 1
            return []
        }
        var packet = bytes
        do {
            if isRTCP { try inbound.unprotectRTCP(&packet) } else { try inbound.unprotect(&packet) }
        } catch {
            metrics.packetsUndecryptable += 1
            return []
        }
        // Symmetric RTP on Meta's side (its relay answers where authenticated media comes from).
        if side == .meta { remote = (address, port) }
        if isRTCP { lastReceivedAt = now; return [] }
        metrics.packetsReceived += 1
        lastReceivedAt = now
        if metrics.mediaStartSeconds == nil {
            metrics.mediaStartSeconds = now - startedAt
            if let frame = Self.frameNumber(packet) { metrics.clippedMilliseconds = Double(frame) * ptime * 1000 }
            events.append(.firstMediaReceived)
            // Meta's side answers media only once the business's first SRTP packet arrived (spec §5.1).
            if side == .meta, audioStart == nil {
                audioStart = now
                nextFrameAt = now
                return due(now: now)
            }
        }
        return []
    }

    /// The frame number our synthetic payload carries ("WASM", frame, send time).
    static func frameNumber(_ packet: [UInt8]) -> UInt32? {
        let headerLength = 12 + Int(packet[0] & 0x0F) * 4
        guard packet.count >= headerLength + 8, packet[headerLength] == 0x57, packet[headerLength + 1] == 0x41,
              packet[headerLength + 2] == 0x53, packet[headerLength + 3] == 0x4D else { return nil }
        let p = headerLength + 4
        return UInt32(packet[p]) << 24 | UInt32(packet[p + 1]) << 16 | UInt32(packet[p + 2]) << 8 | UInt32(packet[p + 3])
    }

    /// One 20 ms frame: an RTP packet with an 80-byte payload (about Opus at 32 kbit/s), protected, or
    /// counted as lost when there are no keys yet.
    private func sendFrame(now: Double) -> [[UInt8]] {
        defer {
            frame &+= 1
            timestamp &+= UInt32(48_000 * ptime)
        }
        guard let outbound else {
            metrics.framesLostBeforeKeys += 1
            return []
        }
        var packet: [UInt8] = [0x80, 111, UInt8(sequence >> 8), UInt8(sequence & 0xFF),
                               UInt8(timestamp >> 24), UInt8((timestamp >> 16) & 0xFF), UInt8((timestamp >> 8) & 0xFF), UInt8(timestamp & 0xFF),
                               UInt8(ssrc >> 24), UInt8((ssrc >> 16) & 0xFF), UInt8((ssrc >> 8) & 0xFF), UInt8(ssrc & 0xFF)]
        packet.reserveCapacity(12 + 80 + 16)
        packet += [0x57, 0x41, 0x53, 0x4D, UInt8(frame >> 24), UInt8((frame >> 16) & 0xFF), UInt8((frame >> 8) & 0xFF), UInt8(frame & 0xFF)]
        packet += [UInt8](repeating: 0xD5, count: 72)
        sequence &+= 1
        do {
            try outbound.protect(&packet)
        } catch {
            return []
        }
        metrics.packetsSent += 1
        if firstSentAt == nil { firstSentAt = now }
        return [packet]
    }

    private func fail(_ why: String) {
        events.append(.failed(why))
    }
}
