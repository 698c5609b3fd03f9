import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `wasim mock` run as users run it, in a process of its own, on free ports of 127.0.0.1: its descriptors
/// and memory can be read from /proc while peers attack it.
final class MockProcess: @unchecked Sendable {
    let process: Process
    let log: URL
    let directory: TemporaryDirectory
    let udpPort: Int
    let tcpPort: Int
    let tlsPort: Int

    /// Starts the mock with `configuration` (YAML) and waits for its three listeners.
    static func start(configuration: String) async throws -> MockProcess {
        let directory = try TemporaryDirectory()
        let file = directory.path + "/mock.yaml"
        try configuration.write(toFile: file, atomically: false, encoding: .utf8)
        let udp = try FreePort.udp(), tcp = try FreePort.tcp(), tls = try FreePort.tcp()
        let (process, log) = try ExternalProcess.start(CLITests.binary, [
            "mock", "--config", file, "--certs", directory.path,
            "--udp-port", "\(udp)", "--tcp-port", "\(tcp)", "--tls-port", "\(tls)",
        ])
        let mock = MockProcess(process: process, log: log, directory: directory, udpPort: udp, tcpPort: tcp, tlsPort: tls)
        let up = await eventually(timeout: 60) { tcpPortIsListening(tls) && tcpPortIsListening(tcp) && udpPortIsBound(udp) }
        guard up, process.isRunning else {
            let text = mock.output()
            mock.kill()
            throw TestFailure(text: "wasim mock did not start: \(text.suffix(2000))")
        }
        return mock
    }

    private init(process: Process, log: URL, directory: TemporaryDirectory, udpPort: Int, tcpPort: Int, tlsPort: Int) {
        self.process = process
        self.log = log
        self.directory = directory
        self.udpPort = udpPort
        self.tcpPort = tcpPort
        self.tlsPort = tlsPort
    }

    var pid: Int32 { process.processIdentifier }
    var caFile: String { directory.path + "/ca.pem" }

    /// Open file descriptors of the mock (sockets, files), from /proc.
    var openDescriptors: Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1 }

    /// Resident memory in KiB, from /proc.
    var residentKiB: Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return -1 }
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
    }

    func output() -> String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// Stops the mock as a user does (SIGTERM: it logs its final counts), and reads its log.
    func stop() async -> String {
        if process.isRunning { Glibc.kill(pid, SIGTERM) }
        _ = await eventually(timeout: 10) { !process.isRunning }
        kill()
        let text = output()
        try? FileManager.default.removeItem(at: log)
        directory.remove()
        return text
    }

    func kill() { ExternalProcess.stop(process) }
}
