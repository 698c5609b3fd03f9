#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// The local address the kernel would send from to reach a host, found as SIPp's `-i` default is: a UDP
/// socket is connected to the target (no packet leaves) and asked for its own address. Via, Contact and
/// the SDP then carry an address the target can answer, not 127.0.0.1.
public enum RoutedLocalAddress {
    /// The source address towards `host` (an IPv4 or IPv6 literal, or a name `SIPServerLocator` resolves,
    /// once, before a run starts; never on an event loop). nil when there is no route or no address.
    public static func towards(_ host: String, port: Int = 5060) -> String? {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        for address in SIPServerLocator.isAddress(bare) ? [bare] : SIPServerLocator.addresses(of: bare) {
            guard let remote = try? SocketAddress(ipAddress: address, port: port) else { continue }
            if let found = source(towards: remote) { return found }
        }
        return nil
    }

    private static func source(towards remote: SocketAddress) -> String? {
        let fd = socket(Int32(remote.protocol.rawValue), Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard remote.withSockAddr({ connect(fd, $0, socklen_t($1)) }) == 0 else { return nil }
        var local = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        guard named == 0 else { return nil }
        var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        let converted = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getnameinfo($0, length, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST) }
        }
        guard converted == 0 else { return nil }
        // A scoped IPv6 address (fe80::1%eth0) is written without its zone in SIP.
        return String(cString: text).split(separator: "%").first.map(String.init)
    }
}
