import Foundation
import Testing

/// The Prometheus text exposition format (0.0.4) as a scraper reads it, fetched with curl: every sample
/// line must parse (`name{label="value",...} number`) and belong to a family announced by `# TYPE`.
struct PrometheusText {
    struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    let samples: [Sample]
    let types: [String: String]

    /// Fetches `url` with curl and parses it; a line that does not parse fails the test.
    static func scrape(_ url: String) async throws -> PrometheusText {
        let curl = try #require(Peers.path("curl"), "curl is not installed")
        let result = try await ExternalProcess.run(curl, ["-sS", "--fail", "--max-time", "20", url], timeout: 30)
        #expect(result.status == 0, "curl \(url): \(result.output)")
        return try parse(result.output)
    }

    static func parse(_ text: String) throws -> PrometheusText {
        var samples: [Sample] = []
        var types: [String: String] = [:]
        for raw in text.split(separator: "\n") {
            let line = String(raw)
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                try #require(parts.count == 4, "bad TYPE line: \(line)")
                types[String(parts[2])] = String(parts[3])
                continue
            }
            if line.hasPrefix("#") { continue }
            samples.append(try #require(sample(line), "not a sample line: \(line)"))
        }
        for s in samples {
            let family = ["_bucket", "_sum", "_count"].reduce(s.name) { name, suffix in
                name.hasSuffix(suffix) && types[String(name.dropLast(suffix.count))] == "histogram" ? String(name.dropLast(suffix.count)) : name
            }
            #expect(types[family] != nil, "\(s.name) has no # TYPE line")
        }
        return PrometheusText(samples: samples, types: types)
    }

    static func sample(_ line: String) -> Sample? {
        guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { return nil }
        let head = line[..<space]
        guard let brace = head.firstIndex(of: "{") else {
            return head.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }) ? Sample(name: String(head), labels: [:], value: value) : nil
        }
        guard head.hasSuffix("}") else { return nil }
        var labels: [String: String] = [:]
        var rest = head[head.index(after: brace)..<head.index(before: head.endIndex)]
        while !rest.isEmpty {
            guard let eq = rest.firstIndex(of: "="), rest[rest.index(after: eq)] == "\"" else { return nil }
            let key = String(rest[..<eq])
            var i = rest.index(eq, offsetBy: 2)
            var value = ""
            while i < rest.endIndex, rest[i] != "\"" {
                if rest[i] == "\\", rest.index(after: i) < rest.endIndex { i = rest.index(after: i) }
                value.append(rest[i])
                i = rest.index(after: i)
            }
            guard i < rest.endIndex else { return nil }
            labels[key] = value
            rest = rest[rest.index(after: i)...]
            if rest.first == "," { rest = rest.dropFirst() }
        }
        return Sample(name: String(head[..<brace]), labels: labels, value: value)
    }

    /// The value of the sample with this name and these labels (among others), or nil.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }?.value
    }

    /// Every sample of this name.
    func all(_ name: String) -> [Sample] { samples.filter { $0.name == name } }
}
