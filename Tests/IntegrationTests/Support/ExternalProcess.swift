import Foundation

/// Runs a third-party peer (sipp, openssl, baresip) as a child process without blocking a thread: output
/// goes to a file, exit is awaited through the termination handler, and a deadline kills it.
struct ExternalProcess {
    struct Result {
        var status: Int32
        var output: String
        var timedOut: Bool
    }

    static func run(_ executable: String, _ arguments: [String], directory: URL? = nil, stdin: String? = nil,
                    timeout: Double = 60) async throws -> Result
    {
        let (process, outURL, out) = try prepare(executable, arguments, directory: directory)
        let input = Pipe()
        process.standardInput = input
        let finished = Finished()
        process.terminationHandler = { _ in finished.signal() }
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? input.fileHandleForWriting.close()
        var timedOut = false
        // Foundation reaps its children from a SIGCHLD source; with some peers in the test process (dnsmasq,
        // a process of a network namespace) that source was seen to stay silent and leave a zombie, so the
        // child is also reaped here.
        func reap() -> Int32? {
            var status: Int32 = 0
            guard waitpid(process.processIdentifier, &status, WNOHANG) == process.processIdentifier else { return nil }
            return (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        }
        var reapedStatus: Int32? = nil
        let deadline = Date().addingTimeInterval(timeout)
        while !finished.isSet, reapedStatus == nil {
            reapedStatus = reap()
            if reapedStatus == nil, Date() > deadline {
                timedOut = true
                process.terminate()
                try await Task.sleep(nanoseconds: 200_000_000)
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                break
            }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        // Killed after the deadline: wait until it is gone (Foundation or we reap it).
        while reapedStatus == nil, process.isRunning {
            reapedStatus = reap()
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        try? out.close()
        let output = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: outURL)
        return Result(status: reapedStatus ?? (process.isRunning ? -1 : process.terminationStatus), output: output, timedOut: timedOut)
    }

    /// Starts a long-running peer; Foundation makes it the leader of its own process group, so `stop` ends
    /// it and any children it forks (Kamailio's workers).
    static func start(_ executable: String, _ arguments: [String], directory: URL? = nil) throws -> (Process, URL) {
        let (process, outURL, _) = try prepare(executable, arguments, directory: directory)
        process.standardInput = Pipe()
        try process.run()
        return (process, outURL)
    }

    /// Ends a peer from `start` and its process group. SIGKILL: a child may inherit SIGTERM blocked from the
    /// test runner's threads, and a test must never leave a peer behind.
    static func stop(_ process: Process) {
        guard process.processIdentifier > 0 else { return }
        kill(-process.processIdentifier, SIGKILL)
        kill(process.processIdentifier, SIGKILL)
    }

    /// A process whose standard output and error go to a fresh log file.
    private static func prepare(_ executable: String, _ arguments: [String], directory: URL?) throws -> (Process, URL, FileHandle) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let outURL = FileManager.default.temporaryDirectory.appendingPathComponent("wasim-proc-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL)
        process.standardOutput = out
        process.standardError = out
        return (process, outURL, out)
    }
}

final class Finished: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false
    func signal() { lock.lock(); done = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return done }
}

/// Third-party peers the interop tests start. In CI (`WASIM_REQUIRE_PEERS=1`) a missing one is a failure,
/// never a silent skip.
enum Peers {
    static func path(_ name: String) -> String? {
        for dir in ["/usr/bin", "/usr/sbin", "/usr/local/bin"] {
            let p = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    static var required: Bool { ProcessInfo.processInfo.environment["WASIM_REQUIRE_PEERS"] == "1" }

    /// True when the test may run: the peer is installed, or peers are required (so the test fails loudly).
    static func available(_ name: String) -> Bool { path(name) != nil || required }
}

/// A fresh folder under the system temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("wasim-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    var path: String { url.path }

    func remove() { try? FileManager.default.removeItem(at: url) }
}
