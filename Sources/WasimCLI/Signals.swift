import Foundation

/// Calls `handler` on SIGINT or SIGTERM instead of letting them end the process, until the returned
/// sources are cancelled. `wasim scenario` uses it to stop a run and still write its results.
func onTerminationSignals(_ handler: @escaping @Sendable () -> Void) -> [any DispatchSourceSignal] {
    [SIGINT, SIGTERM].map { sig in
        signal(sig, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
        source.setEventHandler(handler: handler)
        source.resume()
        return source
    }
}

/// Suspends until SIGINT or SIGTERM (`wasim mock` runs until then).
func waitForTerminationSignal() async {
    let once = SignalContinuation()
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        once.set(continuation, sources: onTerminationSignals { once.resume() })
    }
}

/// Resumes a continuation once, from whichever signal comes first.
private final class SignalContinuation: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Void, Never>?
    private var sources: [any DispatchSourceSignal] = []
    private var fired = false

    func set(_ continuation: CheckedContinuation<Void, Never>, sources: [any DispatchSourceSignal]) {
        lock.lock()
        self.sources = sources
        guard !fired else {
            // The signal came before we got here.
            lock.unlock()
            continuation.resume()
            return
        }
        self.continuation = continuation
        lock.unlock()
    }

    func resume() {
        lock.lock()
        fired = true
        let c = continuation
        continuation = nil
        sources.forEach { $0.cancel() }
        lock.unlock()
        c?.resume()
    }
}
