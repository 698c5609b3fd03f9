import CResolv
#if canImport(Glibc)
import Glibc
#endif
import SIPCore

/// Where to send requests for a SIP URI, in the order to try them (RFC 3263 §4): an IP address as given;
/// a name with a port through its A/AAAA records; a name without a port through its SRV records
/// (`_sips._tcp` for TLS, `_sip._tcp`, `_sip._udp`), by priority and then weight, each target's addresses
/// in turn, else its A/AAAA records on the transport's default port. Blocking: called once before a run,
/// never on an event loop.
public enum SIPServerLocator {
    /// One SRV record (RFC 2782).
    public struct ServiceRecord: Sendable, Hashable {
        public var priority: UInt16
        public var weight: UInt16
        public var port: UInt16
        public var target: String

        public init(priority: UInt16, weight: UInt16, port: UInt16, target: String) {
            self.priority = priority
            self.weight = weight
            self.port = port
            self.target = target
        }
    }

    /// The destinations for `uri` over `transport`, in failover order (empty when nothing resolves).
    public static func destinations(for uri: SIPURI, transport: SIPTransportKind, serverName: String?) -> [SIPDestination] {
        let host = uri.host.hasPrefix("[") ? String(uri.host.dropFirst().dropLast()) : uri.host
        func at(_ address: String, _ port: Int) -> SIPDestination {
            SIPDestination(transport: transport, host: address, port: port, serverName: serverName ?? host)
        }
        if isAddress(host) { return [at(host, uri.port ?? transport.defaultPort)] }
        if let port = uri.port { return addresses(of: host).map { at($0, port) } }
        let service: String
        switch transport {
        case .tls: service = "_sips._tcp."
        case .tcp: service = "_sip._tcp."
        case .udp: service = "_sip._udp."
        }
        let records = ordered(serviceRecords(service + host))
        if records.isEmpty { return addresses(of: host).map { at($0, transport.defaultPort) } }
        var out: [SIPDestination] = []
        for record in records {
            for address in addresses(of: record.target) where !out.contains(at(address, Int(record.port))) {
                out.append(at(address, Int(record.port)))
            }
        }
        return out
    }

    /// Lowest priority first; within a priority, the heavier first (RFC 2782 picks by weighted chance; a
    /// load test wants the same order on every run, and the heaviest is the likeliest).
    public static func ordered(_ records: [ServiceRecord]) -> [ServiceRecord] {
        records.enumerated().sorted { a, b in
            (a.element.priority, UInt16.max - a.element.weight, a.offset) < (b.element.priority, UInt16.max - b.element.weight, b.offset)
        }.map(\.element).filter { $0.target != "." }
    }

    static func isAddress(_ host: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    /// The name's IPv4 then IPv6 addresses, as the system resolves them (getaddrinfo: /etc/hosts, DNS).
    public static func addresses(of host: String) -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>? = nil
        guard getaddrinfo(host, nil, &hints, &list) == 0 else { return [] }
        defer { freeaddrinfo(list) }
        var v4: [String] = [], v6: [String] = []
        var entry = list
        while let info = entry {
            var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(info.pointee.ai_addr, info.pointee.ai_addrlen, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST) == 0 {
                let address = String(cString: text)
                if info.pointee.ai_family == AF_INET6 { if !v6.contains(address) { v6.append(address) } } else if !v4.contains(address) { v4.append(address) }
            }
            entry = info.pointee.ai_next
        }
        return v4 + v6
    }

    /// The SRV records of `name` from the system's resolver (empty when there are none).
    public static func serviceRecords(_ name: String) -> [ServiceRecord] {
        var answer = [UInt8](repeating: 0, count: 4096)
        let length = res_query(name, Int32(ns_c_in.rawValue), Int32(ns_t_srv.rawValue), &answer, Int32(answer.count))
        guard length > 0 else { return [] }
        return parseServiceRecords(Array(answer.prefix(Int(length))))
    }

    /// The SRV records in a DNS response (RFC 1035 §4.1, names compressed or not; RFC 2782 rdata).
    public static func parseServiceRecords(_ message: [UInt8]) -> [ServiceRecord] {
        guard message.count >= 12 else { return [] }
        func u16(_ i: Int) -> UInt16? { i + 1 < message.count ? UInt16(message[i]) << 8 | UInt16(message[i + 1]) : nil }
        /// A name at `start`: its text, and where the field after it begins.
        func name(at start: Int) -> (String, Int)? {
            var labels: [String] = []
            var i = start, end: Int? = nil, jumps = 0
            while i < message.count {
                let length = Int(message[i])
                if length == 0 { return (labels.joined(separator: "."), end ?? i + 1) }
                if length & 0xC0 == 0xC0 {
                    guard let pointer = u16(i), jumps < 32 else { return nil }
                    if end == nil { end = i + 2 }
                    i = Int(pointer & 0x3FFF)
                    jumps += 1
                    continue
                }
                guard i + 1 + length <= message.count else { return nil }
                labels.append(String(decoding: message[(i + 1)..<(i + 1 + length)], as: UTF8.self))
                i += 1 + length
            }
            return nil
        }
        guard let questions = u16(4), let answers = u16(6) else { return [] }
        var i = 12
        for _ in 0..<questions {
            guard let (_, next) = name(at: i) else { return [] }
            i = next + 4
        }
        var records: [ServiceRecord] = []
        for _ in 0..<answers {
            guard let (_, next) = name(at: i), let type = u16(next), let length = u16(next + 8) else { break }
            let rdata = next + 10
            guard rdata + Int(length) <= message.count else { break }
            if type == 33, length >= 7, let priority = u16(rdata), let weight = u16(rdata + 2), let port = u16(rdata + 4),
               let (target, _) = name(at: rdata + 6)
            {
                records.append(ServiceRecord(priority: priority, weight: weight, port: port, target: target.isEmpty ? "." : target))
            }
            i = rdata + Int(length)
        }
        return records
    }
}
