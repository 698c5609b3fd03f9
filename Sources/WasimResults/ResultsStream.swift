import Foundation
import NIOConcurrencyHelpers

/// A results file written while the run goes (calls.csv): the event loops hand it finished chunks of
/// bytes, and one serial writer appends them, so no loop ever waits on the disk. What was handed over is on
/// disk within moments; after a crash, the file holds every chunk written before it, each one whole (a
/// chunk is a number of complete rows).
public final class ResultsStream: Sendable {
    public let path: String
    private let queue: DispatchQueue
    private let handle: NIOLockedValueBox<Int32>
    /// Bytes handed over and not yet written (reported, never a reason to block a loop).
    private let pending = NIOLockedValueBox<Int>(0)
    private let failure = NIOLockedValueBox<String?>(nil)

    /// Creates (truncates) the file and writes `header`.
    public init(path: String, header: String) throws {
        self.path = path
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path]) }
        handle = NIOLockedValueBox(fd)
        queue = DispatchQueue(label: "wasim.results.\((path as NSString).lastPathComponent)")
        append(Array(header.utf8))
    }

    /// Queues `bytes` for appending.
    public func append(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        pending.withLockedValue { $0 += bytes.count }
        queue.async { [self] in
            let fd = handle.withLockedValue { $0 }
            guard fd >= 0 else { return }
            var written = 0
            bytes.withUnsafeBytes { raw in
                while written < raw.count {
                    let n = write(fd, raw.baseAddress! + written, raw.count - written)
                    if n < 0 {
                        if errno == EINTR { continue }
                        let reason = String(cString: strerror(errno))
                        failure.withLockedValue { $0 = $0 ?? "\(path): \(reason)" }
                        return
                    }
                    written += n
                }
            }
            pending.withLockedValue { $0 -= bytes.count }
        }
    }

    /// Bytes queued and not yet on disk.
    public var backlog: Int { pending.withLockedValue { $0 } }

    /// The first write error, if any.
    public var error: String? { failure.withLockedValue { $0 } }

    /// Writes what is queued and closes the file.
    public func close() {
        queue.sync {
            let fd = handle.withLockedValue { fd -> Int32 in
                defer { fd = -1 }
                return fd
            }
            if fd >= 0 { _ = Foundation.close(fd) }
        }
    }
}
