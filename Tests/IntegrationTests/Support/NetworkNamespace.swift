import Foundation
import Testing

/// A network namespace joined to this one by a veth pair (`10.<a>.<b>.1` here, `.2` inside), so a peer
/// started in it has a routed, non-loopback address, as a real SBC does. Needs root and `ip`; removed
/// (with its veth pair) by `remove()`.
struct NetworkNamespace {
    let name: String
    let hostAddress: String
    let peerAddress: String

    static var usable: Bool { getuid() == 0 && Peers.path("ip") != nil }

    /// With `resolver`, processes run in the namespace resolve names through that server
    /// (`/etc/netns/<name>/resolv.conf`, which `ip netns exec` puts in place of /etc/resolv.conf).
    static func create(resolver: String? = nil) async throws -> NetworkNamespace {
        let ip = try #require(Peers.path("ip"), "iproute2 (ip) is not installed")
        let tag = String(UInt32.random(in: 0..<0xFFFF), radix: 16)
        let subnet = "10.\(Int.random(in: 200...250)).\(Int.random(in: 1...250))"
        let ns = NetworkNamespace(name: "wasim-\(tag)", hostAddress: "\(subnet).1", peerAddress: "\(subnet).2")
        let outer = "wsa\(tag)", inner = "wsb\(tag)"
        let steps: [[String]] = [
            ["netns", "add", ns.name],
            ["link", "add", outer, "type", "veth", "peer", "name", inner],
            ["link", "set", inner, "netns", ns.name],
            ["addr", "add", "\(ns.hostAddress)/30", "dev", outer],
            ["link", "set", outer, "up"],
            ["netns", "exec", ns.name, "ip", "addr", "add", "\(ns.peerAddress)/30", "dev", inner],
            ["netns", "exec", ns.name, "ip", "link", "set", inner, "up"],
            ["netns", "exec", ns.name, "ip", "link", "set", "lo", "up"],
        ]
        if let resolver {
            let folder = "/etc/netns/\(ns.name)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try "nameserver \(resolver)\n".write(toFile: folder + "/resolv.conf", atomically: false, encoding: .utf8)
        }
        for step in steps {
            let r = try await ExternalProcess.run(ip, step, timeout: 10)
            if r.status != 0 {
                await ns.remove()
                throw NamespaceError(message: "ip \(step.joined(separator: " ")) failed: \(r.output)")
            }
        }
        return ns
    }

    /// The command line that runs `executable` inside the namespace.
    func exec(_ executable: String, _ arguments: [String]) -> (String, [String]) {
        (Peers.path("ip") ?? "/usr/sbin/ip", ["netns", "exec", name, executable] + arguments)
    }

    /// True when something in the namespace listens on `port` (UDP, or TCP in LISTEN state), as `ss` sees it there.
    func isListening(port: Int, udp: Bool) async -> Bool {
        guard let ss = Peers.path("ss") else { return false }
        let (command, arguments) = exec(ss, [udp ? "-Hlun" : "-Hltn", "sport = :\(port)"])
        let r = try? await ExternalProcess.run(command, arguments, timeout: 10)
        return r.map { $0.status == 0 && !$0.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty } ?? false
    }

    /// Deletes the namespace; its end of the veth pair goes with it, and so does ours.
    func remove() async {
        guard let ip = Peers.path("ip") else { return }
        _ = try? await ExternalProcess.run(ip, ["netns", "del", name], timeout: 10)
        try? FileManager.default.removeItem(atPath: "/etc/netns/\(name)")
    }

    struct NamespaceError: Error, CustomStringConvertible { var message: String; var description: String { message } }
}
