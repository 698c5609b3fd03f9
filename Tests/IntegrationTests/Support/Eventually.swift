import Foundation

/// Waits until `condition` holds, checking every 20 ms for at most `timeout` seconds, and says whether it
/// did. Tests wait for an event this way, never for a fixed time.
func eventually(timeout: Double = 5, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(nanoseconds: 20_000_000)
    }
    return try await condition()
}

/// True when something on this machine has a UDP socket bound to 127.0.0.1:`port` (read from /proc).
func udpPortIsBound(_ port: Int) -> Bool {
    guard let table = try? String(contentsOfFile: "/proc/net/udp", encoding: .utf8) else { return false }
    return table.contains("0100007F:" + String(format: "%04X", port))
}

/// True when something listens on TCP 127.0.0.1:`port` (read from /proc; state 0A is LISTEN).
/// Connections accepted on 127.0.0.1:`port` that its server has not closed yet (ESTABLISHED, or CLOSE_WAIT:
/// the peer closed, the server not yet), from /proc/net/tcp.
func tcpConnectionsOpen(onPort port: Int) -> Int {
    guard let table = try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8) else { return 0 }
    let local = "0100007F:" + String(format: "%04X", port)
    return table.split(separator: "\n").filter { line in
        let fields = line.split(separator: " ")
        return fields.count > 3 && fields[1] == local && (fields[3] == "01" || fields[3] == "08")
    }.count
}

func tcpPortIsListening(_ port: Int) -> Bool {
    guard let table = try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8) else { return false }
    let local = "0100007F:" + String(format: "%04X", port)
    return table.split(separator: "\n").contains { line in
        let fields = line.split(separator: " ")
        return fields.count > 3 && fields[1] == local && fields[3] == "0A"
    }
}
