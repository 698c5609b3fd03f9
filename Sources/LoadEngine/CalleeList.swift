import Foundation
import MetaMock
import WasimYAML

/// Who is called (BIC) or who calls (UIC): the numbers of a list, an inclusive range
/// (`"+15550200000..+15550209999"`) or a CSV file, cycled; with the final response expected from some of
/// them (`expect.callees`, or the CSV's `expect` column).
public struct CalleeList: Sendable, Hashable {
    let numbers: NumberSet
    /// Expected final response per number.
    public internal(set) var expectations: [String: ExpectedResponse] = [:]

    public var count: Int { numbers.count }

    /// The `index`th callee, cycling through the set.
    public func callee(_ index: Int) -> String { numbers.number(at: index % numbers.count) }

    /// The response a call with `number` must end with, if one is stated.
    public func expectation(for number: String) -> ExpectedResponse? {
        expectations.isEmpty ? nil : expectations[number]
    }

    public func contains(_ number: String) -> Bool { numbers.contains(number) }

    /// `callees: { list: [...] }`, `{ range: "+A..+B" }` or `{ csv: file }` (relative to the scenario file).
    static func parse(_ v: YAMLValue) throws -> CalleeList {
        let m = try v.mapping(allowed: ["range", "list", "csv"])
        guard m.count == 1 else { throw v.error("callees takes exactly one of 'range', 'list' or 'csv'") }
        if let list = m["list"] {
            let items = try list.sequence().map { item -> String in
                let s = try item.string()
                guard NumberSet.isE164(s) else { throw item.error("'\(s)' is not an E.164 number like +15550200000") }
                return s
            }
            guard !items.isEmpty else { throw list.error("the list is empty") }
            return CalleeList(numbers: NumberSet(list: items))
        }
        if let csv = m["csv"] {
            let path = try csv.string()
            let resolved = path.hasPrefix("/") ? path : ((v.file as NSString).deletingLastPathComponent as NSString).appendingPathComponent(path)
            guard let text = try? String(contentsOfFile: resolved, encoding: .utf8) else {
                throw csv.error("cannot read the callee file \(resolved)")
            }
            return try CalleeCSV.parse(text, file: resolved)
        }
        let r = m["range"]!
        let text = try r.string()
        guard let set = NumberSet(range: text) else {
            throw r.error("range must be '+FIRST..+LAST' with numbers of equal length, FIRST <= LAST, got '\(text)'")
        }
        return CalleeList(numbers: set)
    }

    /// Adds `expect.callees` (`"+15550200001": 403`), each number one of the callees.
    mutating func addExpectations(_ v: YAMLValue) throws {
        guard case .mapping(let mapping) = v.node else { throw v.error("expected a mapping of \"+number\": response, like \"+15550200001\": 403") }
        var listed: Set<String>? = nil
        if case .list(let l) = numbers.storage { listed = Set(l) }
        for (k, value) in mapping {
            guard let number = k.string, NumberSet.isE164(number) else { throw v.error("'\(k.string ?? "?")' is not an E.164 number") }
            guard listed?.contains(number) ?? contains(number) else { throw v.error("\(number) is not among the callees") }
            guard let text = value.string, let expected = ExpectedResponse(parsing: text) else {
                throw v.error("the response expected from \(number) is a status code, optionally with its reason (\"403 Forbidden\")")
            }
            expectations[number] = expected
        }
    }
}

/// A final response a call must end with: a status code, and the reason phrase when one is given
/// (compared without case; a longer reason that starts with it matches, as wasim appends details).
public struct ExpectedResponse: Sendable, Hashable, CustomStringConvertible {
    public var status: Int
    public var reason: String?

    public init?(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let code = trimmed.prefix(while: \.isNumber)
        guard code.count == 3, let status = Int(code), (100...699).contains(status) else { return nil }
        self.status = status
        let rest = trimmed.dropFirst(3).trimmingCharacters(in: .whitespaces)
        guard rest.isEmpty || trimmed.dropFirst(3).first == " " else { return nil }
        reason = rest.isEmpty ? nil : rest
    }

    public func matches(status: Int, reason: String) -> Bool {
        guard status == self.status else { return false }
        guard let expected = self.reason else { return true }
        return reason.lowercased().hasPrefix(expected.lowercased())
    }

    public var description: String { reason.map { "\(status) \($0)" } ?? String(status) }
}

/// Callees from a CSV file: one number per row, with an optional `expect` column.
///
///     number,expect
///     +15550200000,200
///     +15550200001,403 No Approved Call Permission Found
///
/// Fields are separated by `,` or `;` (SIPp's injection files work: their `SEQUENTIAL` first line is
/// skipped, and a trailing `;` leaves an empty field). Without a header row the number is the first field
/// and the expectation the second. Blank lines and lines starting with `#` are skipped. An error names the
/// file, its line and column.
enum CalleeCSV {
    static func parse(_ text: String, file: String) throws -> CalleeList {
        var numbers: [String] = []
        var expectations: [String: ExpectedResponse] = [:]
        var numberColumn = 0
        var expectColumn: Int? = 1
        var sawFirstRow = false
        // Split on Character.isNewline: "\r\n" is one Character in Swift, and splitting on "\n" misses it.
        for (offset, row) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = offset + 1
            let trimmed = row.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            if !sawFirstRow, ["SEQUENTIAL", "RANDOM", "USER"].contains(trimmed.uppercased()) { continue }
            let separator: Character = row.contains(";") && !row.contains(",") ? ";" : ","
            let fields = row.split(separator: separator, omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            if !sawFirstRow {
                sawFirstRow = true
                if !NumberSet.isE164(fields[0]) {
                    // A header row names the columns.
                    let names = fields.map { $0.lowercased() }
                    guard let n = names.firstIndex(where: { ["number", "callee", "user", "caller"].contains($0) }) else {
                        throw ConfigFileError(file: file, line: line, column: 1, path: "callees.csv",
                                              message: "the first row is neither a number nor a header with a 'number' column")
                    }
                    numberColumn = n
                    expectColumn = names.firstIndex(of: "expect")
                    continue
                }
            }
            func column(_ index: Int) -> Int { fields[..<index].reduce(1) { $0 + $1.count + 1 } }
            guard numberColumn < fields.count, NumberSet.isE164(fields[numberColumn]) else {
                let shown = numberColumn < fields.count ? fields[numberColumn] : ""
                throw ConfigFileError(file: file, line: line, column: numberColumn < fields.count ? column(numberColumn) : 1, path: "callees.csv",
                                      message: "'\(shown)' is not an E.164 number like +15550200000")
            }
            let number = fields[numberColumn]
            numbers.append(number)
            if let e = expectColumn, e < fields.count, !fields[e].isEmpty {
                guard let expected = ExpectedResponse(parsing: fields[e]) else {
                    throw ConfigFileError(file: file, line: line, column: column(e), path: "callees.csv",
                                          message: "expect '\(fields[e])' is not a status code with an optional reason, like 403 or \"403 Forbidden\"")
                }
                if let earlier = expectations[number], earlier != expected {
                    throw ConfigFileError(file: file, line: line, column: column(e), path: "callees.csv",
                                          message: "\(number) is expected to answer both \(earlier) and \(expected)")
                }
                expectations[number] = expected
            }
        }
        guard !numbers.isEmpty else { throw ConfigFileError(file: file, path: "callees.csv", message: "the file has no numbers") }
        return CalleeList(numbers: NumberSet(list: numbers), expectations: expectations)
    }
}
