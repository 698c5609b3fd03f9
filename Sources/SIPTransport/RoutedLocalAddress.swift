#if canImport(Glibc)
import Glibc
#endif

/// The local address the kernel would send from to reach a host, found as SIPp's `-i` default is: a UDP
/// socket is connected to the target (no packet leaves) and asked for its own address. Via, Contact and
/// the SDP then carry an address the target can answer, not 127.0.0.1.
public enum RoutedLocalAddress {
    /// The source address towards `host` (an IPv4 or IPv6 literal, or a name resolved here once, before a
    /// run starts; never on an event loop). nil when there is no route or the name does not resolve.
    public static func towards(_ host: String, port: Int = 5060) -> String? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>? = nil
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        guard getaddrinfo(bare, String(port), &hints, &list) == 0, let first = list else { return nil }
        defer { freeaddrinfo(list) }
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            if let found = source(for: info.pointee) { return found }
            entry = info.pointee.ai_next
        }
        return nil
    }

    private static func source(for info: addrinfo) -> String? {
        let fd = socket(info.ai_family, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard connect(fd, info.ai_addr, info.ai_addrlen) == 0 else { return nil }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { return nil }
        var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        let converted = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getnameinfo($0, length, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST)
            }
        }
        guard converted == 0 else { return nil }
        let address = String(cString: text)
        // A scoped IPv6 address (fe80::1%eth0) is written without its zone in SIP.
        return address.split(separator: "%").first.map(String.init)
    }
}
