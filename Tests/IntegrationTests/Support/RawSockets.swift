import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Plain blocking sockets for attacks no SIP stack would make: idle or half-sent connections, floods and
/// garbage. Every descriptor is closed by `closeAll()`.
final class RawSockets: @unchecked Sendable {
    private(set) var descriptors: [Int32] = []

    deinit { closeAll() }

    /// Opens a TCP connection from `source` (any 127.x address) to 127.0.0.1:`port`; nil if it fails.
    @discardableResult
    func connect(port: Int, from source: String = "127.0.0.1") -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        inet_pton(AF_INET, source, &local.sin_addr)
        var remote = sockaddr_in()
        remote.sin_family = sa_family_t(AF_INET)
        remote.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr)
        let ok = withUnsafePointer(to: &local) { l in
            l.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        } && withUnsafePointer(to: &remote) { r in
            r.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard ok else { close(fd); return nil }
        descriptors.append(fd)
        return fd
    }

    /// Sends bytes on a connection (errors ignored: the peer may have closed it).
    func send(_ fd: Int32, _ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Whether the peer has closed `fd` (a read sees end of file or a reset); pending data is read and dropped.
    func isClosedByPeer(_ fd: Int32) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n > 0 { continue }
            if n == 0 { return true }
            return errno != EAGAIN && errno != EWOULDBLOCK
        }
    }

    /// How many of the open connections the peer has not closed.
    var aliveCount: Int { descriptors.filter { !isClosedByPeer($0) }.count }

    /// Sends one UDP datagram to 127.0.0.1:`port`.
    static func sendDatagram(_ bytes: [UInt8], port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var remote = sockaddr_in()
        remote.sin_family = sa_family_t(AF_INET)
        remote.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr)
        _ = bytes.withUnsafeBytes { b in
            withUnsafePointer(to: &remote) { r in
                r.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, b.baseAddress, b.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
    }

    func closeAll() {
        for fd in descriptors { close(fd) }
        descriptors.removeAll()
    }
}
