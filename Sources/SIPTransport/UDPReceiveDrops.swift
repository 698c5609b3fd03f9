#if canImport(Glibc)
import Glibc
#endif

/// Datagrams the kernel dropped because a UDP socket's receive queue was full, read from Linux's
/// `/proc/net/udp` and `/proc/net/udp6` (the `drops` column of each socket) for the sockets bound to the
/// given local ports. A load generator whose own sockets drop is too slow to read what its target sends:
/// the retransmissions and latencies that follow are its own doing, not the target's.
public enum UDPReceiveDrops {
    /// The drops of every socket bound to one of `ports` (0 where /proc is not readable).
    public static func count(localPorts ports: Set<Int>) -> Int {
        guard !ports.isEmpty else { return 0 }
        return ["/proc/net/udp", "/proc/net/udp6"].reduce(0) { $0 + count(file: $1, ports: ports) }
    }

    static func count(file: String, ports: Set<Int>) -> Int {
        guard let text = read(file) else { return 0 }
        return count(table: text, ports: ports)
    }

    /// Sums the drops of the table's rows whose local port is in `ports`. A row is
    /// `sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ref pointer drops`,
    /// with addresses as hex `ADDR:PORT`.
    static func count(table: String, ports: Set<Int>) -> Int {
        var total = 0
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 13, let colon = fields[1].lastIndex(of: ":"),
                  let port = Int(fields[1][fields[1].index(after: colon)...], radix: 16), ports.contains(port),
                  let drops = Int(fields[12]) else { continue }
            total += drops
        }
        return total
    }

    private static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
