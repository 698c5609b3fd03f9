import Foundation
import LoadEngine
import MetaMock
import Testing

/// Callees from CSV files with expected responses, who hangs up, and BIC and UIC mixed in one run.
@Suite("Callees, expectations and call choices")
struct CalleeFileTests {
    func load(_ yaml: String, csv: String, name: String = "callees.csv") throws -> Scenario {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try csv.write(toFile: dir.path + "/" + name, atomically: false, encoding: .utf8)
        try yaml.write(toFile: dir.path + "/s.yaml", atomically: false, encoding: .utf8)
        return try ScenarioLoader.load(path: dir.path + "/s.yaml")
    }

    func csvError(_ csv: String) -> ScenarioError? {
        do {
            _ = try load("name: x\ncallees: { csv: callees.csv }\nload: { total_calls: 1 }\n", csv: csv)
            return nil
        } catch let e as ScenarioError {
            return e
        } catch {
            return nil
        }
    }

    @Test func csvWithHeaderAndExpectations() throws {
        let s = try load("name: x\ncallees: { csv: callees.csv }\nload: { total_calls: 3 }\n", csv: """
            # users and what they answer
            expect;number
            403 No Approved Call Permission Found;+15550209000
            ;+15550200000

            486;+15550201000
            """)
        #expect(s.callees.count == 3 && s.callees.callee(0) == "+15550209000" && s.callees.callee(4) == "+15550200000")
        #expect(s.callees.expectation(for: "+15550209000")?.description == "403 No Approved Call Permission Found")
        #expect(s.callees.expectation(for: "+15550200000") == nil)
        let declined = try #require(s.callees.expectation(for: "+15550201000"))
        #expect(declined.matches(status: 486, reason: "User declined the call") && !declined.matches(status: 480, reason: "x"))
    }

    @Test func sippInjectionFileWorks() throws {
        // SIPp's format: a SEQUENTIAL line, then `field;` rows. No header: the number is the first field.
        let s = try load("name: x\ncallees: { csv: callees.csv }\nload: { total_calls: 2 }\n", csv: "SEQUENTIAL\r\n+15550200007;\r\n+15550200008;480\r\n")
        #expect(s.callees.count == 2 && s.callees.callee(1) == "+15550200008")
        #expect(s.callees.expectation(for: "+15550200008")?.status == 480 && s.callees.expectation(for: "+15550200007") == nil)
    }

    @Test func csvErrorsNameTheFileLineAndColumn() throws {
        let bad = try #require(csvError("number,expect\n+15550200000,200\n+1555abc,200\n"))
        #expect(bad.file.hasSuffix("callees.csv") && bad.line == 3 && bad.column == 1 && bad.message.contains("'+1555abc' is not an E.164"))
        let badExpect = try #require(csvError("number,expect\n+15550200000,20x\n"))
        #expect(badExpect.line == 2 && badExpect.column == 14 && badExpect.message.contains("expect '20x'"))
        let conflict = try #require(csvError("+15550200000,200\n+15550200000,403\n"))
        #expect(conflict.line == 2 && conflict.message.contains("both 200 and 403"))
        #expect(try #require(csvError("# nothing\n")).message.contains("no numbers"))
        #expect(try #require(csvError("phone,expect\n+15550200000,200\n")).message.contains("'number' column"))
        let missing = try #require(csvError("x"))
        #expect(missing.line == 1)
    }

    @Test func missingCsvFileIsAScenarioError() throws {
        do {
            _ = try ScenarioLoader.parse("name: x\ncallees: { csv: /nonexistent/callees.csv }\nload: { total_calls: 1 }\n", file: "s.yaml")
            Issue.record("no error")
        } catch let e as ScenarioError {
            #expect(e.file == "s.yaml" && e.path == "callees.csv" && e.line == 2 && e.message.contains("cannot read"))
        }
    }

    @Test func expectCalleesInTheScenario() throws {
        let s = try ScenarioLoader.parse("""
            name: x
            callees: { range: "+15550200000..+15550200009" }
            load: { total_calls: 10 }
            expect:
              callees: { "+15550200003": 403, "+15550200004": "486 User declined the call" }
            """, file: "s.yaml")
        #expect(s.callees.expectation(for: "+15550200003")?.status == 403)
        #expect(s.callees.expectation(for: "+15550200004")?.reason == "User declined the call")
        do {
            _ = try ScenarioLoader.parse("""
                name: x
                callees: { range: "+15550200000..+15550200009" }
                load: { total_calls: 10 }
                expect:
                  callees: { "+15550209999": 403 }
                """, file: "s.yaml")
            Issue.record("no error")
        } catch let e as ScenarioError {
            #expect(e.path == "expect.callees" && e.line == 5 && e.message.contains("not among the callees"))
        }
    }

    @Test func hangUpAndDirectionChoices() throws {
        func parse(_ call: String) throws -> Scenario {
            try ScenarioLoader.parse("name: x\ncallees: { range: \"+15550200000..+15550200009\" }\nload: { total_calls: 10 }\ncall: \(call)\n", file: "s.yaml")
        }
        // Defaults: the business ends BICs, the user ends UICs.
        let bic = try parse("{ hold: 1s }"), uic = try parse("{ direction: uic }")
        #expect(!bic.userHangsUp(3) && uic.userHangsUp(3) && uic.isUserInitiated(0) && !bic.isUserInitiated(0))
        #expect(try parse("{ hang_up: user }").userHangsUp(5))
        #expect(!(try parse("{ direction: uic, hang_up: business }").userHangsUp(5)))
        // Shares are drawn from the seed and the call's index: stable, and close to the share.
        let mix = try parse("{ direction: mix, uic_share: 0.3, hang_up: { user: 0.6 } }")
        let uicCount = (0..<10_000).filter(mix.isUserInitiated).count
        let userEnds = (0..<10_000).filter(mix.userHangsUp).count
        #expect(abs(uicCount - 3000) < 200 && abs(userEnds - 6000) < 200, "\(uicCount) \(userEnds)")
        #expect((0..<100).map(mix.isUserInitiated) == (0..<100).map(mix.isUserInitiated))
        // Choices are independent of each other.
        let both = (0..<10_000).filter { mix.isUserInitiated($0) && mix.userHangsUp($0) }.count
        #expect(abs(both - 1800) < 200, "\(both)")
        for (call, path, words) in [("{ uic_share: 0.5 }", "call.uic_share", "direction: mix"),
                                    ("{ hang_up: both }", "call.hang_up", "one of"),
                                    ("{ hang_up: { user: 2 } }", "call.hang_up.user", "between 0 and 1"),
                                    ("{ direction: sideways }", "call.direction", "one of")] {
            do {
                _ = try parse(call)
                Issue.record("\(call): no error")
            } catch let e as ScenarioError {
                #expect(e.path == path && e.message.contains(words), "\(call): \(e)")
            }
        }
    }

    @Test func holdDistributions() throws {
        func hold(_ text: String) throws -> Scenario.Hold {
            try ScenarioLoader.parse("name: x\ncallees: { list: [\"+15550200000\"] }\nload: { total_calls: 1 }\ncall: { hold: \(text) }\n", file: "s.yaml").hold
        }
        #expect(try hold("90s") == .fixed(90) && hold("{ uniform: [1s, 3s] }") == .uniform(1, 3) && hold("{ exponential: 2m }") == .exponential(mean: 120))
        #expect(throws: ScenarioError.self) { try hold("{ exponential: 0s }") }
        #expect(throws: ScenarioError.self) { try hold("{ uniform: [1s, 3s], exponential: 2s }") }
    }

    @Test func callsDueBySchedule() {
        let constant = ArrivalSchedule(.constant(rate: 10), totalCalls: 100, duration: nil, seed: 1)
        #expect(constant.callsDue(by: -1) == 0 && constant.callsDue(by: 0) == 1 && constant.callsDue(by: 0.95) == 10 && constant.callsDue(by: 60) == 100)
        let burst = ArrivalSchedule(.burst(size: 50, every: 2), totalCalls: 120, duration: nil, seed: 1)
        #expect(burst.callsDue(by: 0) == 50 && burst.callsDue(by: 3.9) == 100 && burst.callsDue(by: 4) == 120)
        let poisson = ArrivalSchedule(.poisson(rate: 100), totalCalls: 500, duration: nil, seed: 7)
        for t in [0.0, 0.5, 1.7, 10] {
            #expect(poisson.callsDue(by: t) == (0..<500).filter { poisson.offset($0) <= t }.count)
        }
    }
}

/// The choices at work against the embedded mock: Meta's BYE or the business's, per direction.
@Suite("Who hangs up, and mixed directions", .serialized)
struct HangUpRunTests {
    func run(_ yaml: String) async throws -> (RunResult, [[String]], TemporaryDirectory) {
        let dir = try TemporaryDirectory()
        let scenario = try ScenarioLoader.parse(yaml, file: "inline.yaml")
        let result = try await ScenarioRunner(scenario: scenario, options: RunOptions(resultsRoot: dir.path, certsDirectory: dir.path)).run()
        let csv = try String(contentsOfFile: result.directory + "/calls.csv", encoding: .utf8).split(separator: "\n")
        let header = csv[0].split(separator: ",").map(String.init)
        // Rows are written as calls end; ordered by the index column here, as a user's script would sort them.
        let rows = csv.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
            .sorted { Int($0[0])! < Int($1[0])! }
        // Columns by name, so the test reads as the user's script would.
        return (result, rows.map { row in header.indices.map { row[$0] } } + [header], dir)
    }

    func column(_ rows: [[String]], _ name: String) -> [String] {
        let header = rows.last!
        let i = header.firstIndex(of: name)!
        return rows.dropLast().map { $0[i] }
    }

    @Test func theUserHangsUpABusinessInitiatedCall() async throws {
        let (result, rows, dir) = try await run("""
            name: bic-user-hangs-up
            callees: { range: "+15550200000..+15550200009" }
            load: { rate: 20/s, total_calls: 6 }
            call: { hold: 400ms, hang_up: user }
            """)
        defer { dir.remove() }
        #expect(result.summary.passed && result.summary.calls.connected == 6)
        #expect(column(rows, "hangup") == Array(repeating: "meta", count: 6))
        // Meta's BYE came after the hold (the mock honoured X-Wasim-Hangup-After), not the business's. The
        // mock's timer starts when it sends the 200, so a busy machine shortens the business's view a little.
        for d in column(rows, "duration_ms").compactMap(Double.init) { #expect(d >= 250 && d < 900, "\(d)") }
        let ledger = try #require(try result.mockLedger())
        #expect(ledger.count == 6 && ledger.allSatisfy { $0.endedBy == "meta" }, "\(ledger.map(\.endedBy))")
        let duration = try #require(result.summary.callDurationMs)
        #expect(duration.count == 6 && duration.p50 >= 250)
    }

    @Test func theBusinessHangsUpAUserInitiatedCall() async throws {
        let (result, rows, dir) = try await run("""
            name: uic-business-hangs-up
            callees: { range: "+15550200000..+15550200009" }
            load: { rate: 20/s, total_calls: 6 }
            call: { direction: uic, hold: 300ms, hang_up: business }
            """)
        defer { dir.remove() }
        #expect(result.summary.passed && result.summary.calls.connected == 6, "\(result.summary.responses)")
        #expect(column(rows, "hangup") == Array(repeating: "business", count: 6))
        #expect(column(rows, "direction") == Array(repeating: "uic", count: 6))
        // The business's BYE followed Meta's Record-Route: the mock answered it 200 and recorded the end.
        let ledger = try #require(try result.mockLedger())
        #expect(ledger.count == 6 && ledger.allSatisfy { $0.endedBy == "business" && $0.finalStatus == 200 }, "\(ledger)")
        for d in column(rows, "duration_ms").compactMap(Double.init) { #expect(d >= 200 && d < 800, "\(d)") }
    }

    /// One shard (max_concurrent 1), yet Meta's connections to wasim's business side may be accepted on
    /// any event loop: every loop serves them.
    @Test(arguments: ["tls", "tcp"])
    func userInitiatedCallsOnOneShard(_ transport: String) async throws {
        let (result, _, dir) = try await run("""
            name: uic-one-shard
            transport: { protocol: \(transport) }
            callees: { range: "+15550200000..+15550200009" }
            load: { rate: 50/s, total_calls: 4, max_concurrent: 1 }
            call: { direction: uic, hold: 50ms, hang_up: business }
            """)
        defer { dir.remove() }
        #expect(result.summary.passed && result.summary.calls.connected == 4, "\(result.summary.responses)")
    }

    @Test func exponentialHoldTimes() async throws {
        let (result, rows, dir) = try await run("""
            name: exponential-hold
            transport: { protocol: udp }
            callees: { range: "+15550200000..+15550200099" }
            load: { rate: 100/s, total_calls: 60 }
            call: { hold: { exponential: 200ms } }
            seed: 3
            """)
        defer { dir.remove() }
        #expect(result.summary.passed)
        let durations = column(rows, "duration_ms").compactMap(Double.init)
        let mean = durations.reduce(0, +) / Double(durations.count)
        // The mean of 60 exponential draws with mean 200 ms lies within ±3 standard errors (±77 ms); no
        // draw exceeds the 10× cut.
        #expect(durations.count == 60 && mean > 123 && mean < 300 && durations.max()! < 2100, "\(mean)")
    }

    @Test func bothDirectionsInOneRun() async throws {
        let (result, rows, dir) = try await run("""
            name: mixed
            callees: { range: "+15550200000..+15550200099" }
            load: { rate: 40/s, total_calls: 40 }
            call: { direction: mix, uic_share: 0.5, hold: 200ms, hang_up: { user: 0.5 }, challenge: true }
            """)
        defer { dir.remove() }
        let s = result.summary
        let split = try #require(s.byDirection)
        let bic = try #require(split["bic"]), uic = try #require(split["uic"])
        #expect(bic.attempted + uic.attempted == 40 && bic.attempted > 8 && uic.attempted > 8, "\(split)")
        #expect(bic.connected == bic.attempted && uic.connected == uic.attempted && s.passed, "\(s.responses)")
        // Every call was challenged: BICs by the mock (Meta's 407), UICs by wasim's business side.
        #expect(s.latencyMs.auth.count == 40)
        let pairs = Set(zip(column(rows, "direction"), column(rows, "hangup")).map { "\($0)/\($1)" })
        #expect(pairs == ["bic/meta", "bic/business", "uic/meta", "uic/business"], "\(pairs)")
        let ledger = try #require(try result.mockLedger())
        #expect(ledger.filter { $0.direction == .uic }.count == uic.attempted && ledger.filter { $0.direction == .bic }.count == bic.attempted)
    }

    @Test func unmetExpectationsFailTheRunAndNameTheCall() async throws {
        let (result, rows, dir) = try await run("""
            name: expectations
            callees: { list: ["+15550200000", "+15550209000", "+15550200001"] }
            mock: default
            load: { rate: 20/s, total_calls: 3 }
            call: { hold: 100ms }
            expect:
              callees: { "+15550200000": 200, "+15550200001": "486 User declined the call" }
            """)
        defer { dir.remove() }
        let s = result.summary
        #expect(!s.passed)
        let x = try #require(s.expectations)
        #expect(x.checked == 2 && x.met == 1 && x.unmet == 1)
        #expect(x.unmetExamples == ["call 2 +15550200001: expected 486 User declined the call, got 200 OK"])
        // Two unexpected: the unmet expectation, and the call to +15550209000 (no expectation) if it failed.
        #expect(s.calls.unexpected == 1 + (s.calls.failed > 0 ? 1 : 0))
        #expect(column(rows, "as_expected") == ["yes", "", "no"])
        let report = try String(contentsOfFile: result.directory + "/report.html", encoding: .utf8)
        #expect(report.contains("<h2>Expected responses</h2>") && report.contains("call 2 +15550200001: expected 486 User declined the call, got 200 OK"))
    }

    @Test func failedUserInitiatedCallsAreTracedFromMetasSide() async throws {
        let (result, _, dir) = try await run("""
            name: uic-traced
            callees: { range: "+15550200000..+15550200001" }
            load: { rate: 20/s, total_calls: 2 }
            call: { direction: uic, reject_dtls: true, hold: 100ms }
            """)
        defer { dir.remove() }
        #expect(result.summary.responses == ["488 Not Acceptable Here": 2] && result.summary.traces.written == 2)
        let text = try String(contentsOfFile: result.directory + "/traces/call-0.txt", encoding: .utf8)
        for needle in ["UIC 0 outgoing:wacid.", "(as the mock saw it): 488 Not Acceptable Here", "──▶ sent to tls 127.0.0.1:",
                       "INVITE sip:+33639980001;tgrp=wacall;trunk-context=byoc.example.com@sip.example.com", "x-wa-meta-wacid:", "◀── received from", "488 Not Acceptable Here", "ACK sip:"] {
            #expect(text.contains(needle), "missing \(needle)")
        }
    }

    @Test func theSendBacklogIsReported() async throws {
        // One call at a time, 50 due per second, each held 200 ms: calls wait for a slot and start late.
        let (result, _, dir) = try await run("""
            name: backlog
            callees: { range: "+15550200000..+15550200099" }
            load: { rate: 50/s, total_calls: 10, max_concurrent: 1 }
            call: { hold: 200ms }
            """)
        defer { dir.remove() }
        let g = result.summary.generator
        #expect(result.summary.calls.connected == 10)
        #expect(g.lateStarts >= 8 && g.sendBacklogMax >= 5, "\(g)")
        #expect(result.summary.latencyMs.startLag.max > 1000)
    }
}
