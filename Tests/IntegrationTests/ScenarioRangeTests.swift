import Foundation
import LoadEngine
import Testing
import WasimYAML

/// Values that used to crash the generator or got a misleading message are refused at load, naming the
/// file, the path and the allowed range.
struct ScenarioRangeTests {
    static func parse(_ load: String, call: String = "{ hold: 1s }") throws -> Scenario {
        try ScenarioLoader.parse("""
            name: v
            callees: { range: "+15550200000..+15550200099" }
            load: \(load)
            call: \(call)
            """, file: "v.yaml")
    }

    static func message(_ body: () throws -> Scenario) -> String? {
        do { _ = try body(); return nil } catch let error as ConfigFileError { return error.description } catch { return "\(error)" }
    }

    /// Every error of a file is reported at once, in file order, each with its line and path (only the
    /// first was); the collection stops at an error that follows from one already found.
    @Test func everyErrorOfAFileIsReported() {
        let m = ScenarioRangeTests.message {
            try ScenarioLoader.parse("""
                name: v
                callees: { range: "+15550200000..+15550200099" }
                load: { rate: 0/s, total_calls: 5, max_in_flight: 0 }
                call: { hold: 40d, ring_timeout: soon }
                media: { security: nope }
                extra: 1
                """, file: "v.yaml")
        }
        let lines = m?.split(separator: "\n").map(String.init) ?? []
        #expect(lines.count == 6, "\(m ?? "accepted")")
        #expect(lines.first?.hasPrefix("v.yaml:3:") == true && lines.first?.contains("load.rate") == true, "\(lines)")
        for path in ["load.max_in_flight", "call.hold", "call.ring_timeout", "media.security", "extra"] {
            #expect(lines.contains { $0.contains(" \(path): ") }, "\(path) missing from \(lines)")
        }
    }

    /// `call.hold: 9999999h` overflowed a time in nanoseconds (SIGILL in CallShard).
    @Test func holdBeyondThirtyDaysIsRefused() {
        let m = ScenarioRangeTests.message { try ScenarioRangeTests.parse("{ rate: 1/s, total_calls: 1 }", call: "{ hold: 9999999h }") }
        #expect(m?.contains("v.yaml:4:") == true && m?.contains("call.hold: '9999999h' is longer than the longest duration wasim takes, 30d") == true, "\(m ?? "accepted")")
    }

    /// `load.rate: 99999999999999999999/s` overflowed the schedule's count (SIGILL in ArrivalSchedule).
    @Test func absurdRateIsRefused() {
        let m = ScenarioRangeTests.message { try ScenarioRangeTests.parse("{ rate: 99999999999999999999/s, total_calls: 1 }") }
        #expect(m?.contains("load.rate: '99999999999999999999/s' is above the highest rate wasim takes, 1000000/s") == true, "\(m ?? "accepted")")
    }

    /// `rate: 0/s` said "expected a rate like 200/s", as if the syntax were wrong.
    @Test func zeroRateSaysAboveZero() {
        let m = ScenarioRangeTests.message { try ScenarioRangeTests.parse("{ rate: 0/s, total_calls: 1 }") }
        #expect(m?.contains("load.rate: a rate is above 0/s, found '0/s'") == true, "\(m ?? "accepted")")
    }

    /// A burst every 0 s divided by zero when sizing the schedule.
    @Test func burstEveryZeroIsRefused() {
        let m = ScenarioRangeTests.message { try ScenarioRangeTests.parse("{ arrivals: burst, burst: { size: 5, every: 0s }, duration: 10s }") }
        #expect(m?.contains("load.burst.every: a burst repeats after more than 0 s") == true, "\(m ?? "accepted")")
    }

    /// A missing file, a folder and a binary file each say what is wrong (all were "cannot read the file").
    @Test func missingFolderAndBinaryFilesAreTold() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let binary = dir.path + "/b.yaml"
        try Data([0x7F, 0x45, 0x4C, 0x46, 0, 1, 2]).write(to: URL(fileURLWithPath: binary))
        #expect(ScenarioRangeTests.message { try ScenarioLoader.load(path: dir.path + "/none.yaml") } == "\(dir.path)/none.yaml: (document): no such file")
        #expect(ScenarioRangeTests.message { try ScenarioLoader.load(path: dir.path) } == "\(dir.path): (document): is a folder, not a YAML file")
        #expect(ScenarioRangeTests.message { try ScenarioLoader.load(path: binary) }?.contains("is not a text file") == true)
    }
}
