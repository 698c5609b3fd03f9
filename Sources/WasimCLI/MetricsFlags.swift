import ArgumentParser
import Foundation
import MetaMock
import WasimMetrics

/// `--metrics HOST:PORT`: serve Prometheus metrics while the command runs.
struct MetricsFlags: ParsableArguments {
    @Option(name: .customLong("metrics"), help: "Serve Prometheus metrics on http://HOST:PORT/metrics while running (e.g. 127.0.0.1:9464; 0.0.0.0:9464 for a scraper on another machine).")
    var address: String?

    @Option(name: .customLong("metrics-linger"), help: "Keep serving metrics this many seconds after the run ends, for a last scrape (default 0).")
    var linger: Double = 0

    func validate() throws {
        guard linger >= 0 else { throw ValidationError("'--metrics-linger' is a number of seconds, 0 or more") }
        if let address, MockCommand.hostPort(address) == nil {
            throw ValidationError("'--metrics' is HOST:PORT, e.g. 127.0.0.1:9464 (got '\(address)')")
        }
    }

    /// Waits `--metrics-linger` seconds (for a scraper's last look), then stops the endpoint.
    func finish(_ endpoint: MetricsEndpoint?) async {
        guard let endpoint else { return }
        if linger > 0 {
            print("metrics: serving the final values for \(linger) s more at \(endpoint.url)")
            try? await Task.sleep(for: .seconds(linger))
        }
        await endpoint.stop()
    }

    /// Starts the endpoint for `publisher` when asked; a port that cannot be bound ends the command with
    /// exit status 2, naming the listener.
    func start(_ publisher: @autoclosure () -> any MetricsPublisher) async throws -> MetricsEndpoint? {
        guard let address, let (host, port) = MockCommand.hostPort(address) else { return nil }
        do {
            let endpoint = try await MetricsEndpoint.start(host: host, port: port, publisher: publisher())
            print("metrics: \(endpoint.url)")
            return endpoint
        } catch let error as MockListenError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}
