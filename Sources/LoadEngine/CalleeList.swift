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
        let bytes = Array(text.utf8)
        let trimmed = CalleeCSV.trim(bytes[...])
        guard trimmed.count >= 3 else { return nil }
        let code = trimmed.prefix(3)
        guard code.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        let status = code.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        guard (100...699).contains(status) else { return nil }
        self.status = status
        let after = trimmed.dropFirst(3)
        guard after.isEmpty || after.first == UInt8(ascii: " ") || after.first == UInt8(ascii: "\t") else { return nil }
        let rest = CalleeCSV.trim(after)
        reason = rest.isEmpty ? nil : CalleeCSV.string(rest)
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
        var line = 0
        // Bytes, not Characters: a million-row file loads in well under a second.
        var bytes = Array(text.utf8)
        if bytes.last != UInt8(ascii: "\n") { bytes.append(UInt8(ascii: "\n")) }
        var start = 0
        for end in bytes.indices where bytes[end] == UInt8(ascii: "\n") {
            line += 1
            defer { start = end + 1 }
            var row = bytes[start..<end]
            if row.last == UInt8(ascii: "\r") { row = row.dropLast() }
            let trimmed = trim(row)
            if trimmed.isEmpty || trimmed.first == UInt8(ascii: "#") { continue }
            if !sawFirstRow, ["SEQUENTIAL", "RANDOM", "USER"].contains(string(trimmed).uppercased()) { continue }
            let separator = row.contains(UInt8(ascii: ",")) || !row.contains(UInt8(ascii: ";")) ? UInt8(ascii: ",") : UInt8(ascii: ";")
            // Fields with their 1-based columns.
            var fields: [(text: ArraySlice<UInt8>, column: Int)] = []
            var fieldStart = row.startIndex
            for i in row.indices where row[i] == separator {
                fields.append((trim(row[fieldStart..<i]), fieldStart - row.startIndex + 1))
                fieldStart = i + 1
            }
            fields.append((trim(row[fieldStart..<row.endIndex]), fieldStart - row.startIndex + 1))
            if !sawFirstRow {
                sawFirstRow = true
                if !isE164(fields[0].text) {
                    // A header row names the columns.
                    let names = fields.map { string($0.text).lowercased() }
                    guard let n = names.firstIndex(where: { ["number", "callee", "user", "caller"].contains($0) }) else {
                        throw ConfigFileError(file: file, line: line, column: 1, path: "callees.csv",
                                              message: "the first row is neither a number nor a header with a 'number' column")
                    }
                    numberColumn = n
                    expectColumn = names.firstIndex(of: "expect")
                    continue
                }
            }
            guard numberColumn < fields.count, isE164(fields[numberColumn].text) else {
                let shown = numberColumn < fields.count ? string(fields[numberColumn].text) : ""
                throw ConfigFileError(file: file, line: line, column: numberColumn < fields.count ? fields[numberColumn].column : 1,
                                      path: "callees.csv", message: "'\(shown)' is not an E.164 number like +15550200000")
            }
            let number = string(fields[numberColumn].text)
            numbers.append(number)
            if let e = expectColumn, e < fields.count, !fields[e].text.isEmpty {
                let text = string(fields[e].text)
                guard let expected = ExpectedResponse(parsing: text) else {
                    throw ConfigFileError(file: file, line: line, column: fields[e].column, path: "callees.csv",
                                          message: "expect '\(text)' is not a status code with an optional reason, like 403 or \"403 Forbidden\"")
                }
                if let earlier = expectations[number], earlier != expected {
                    throw ConfigFileError(file: file, line: line, column: fields[e].column, path: "callees.csv",
                                          message: "\(number) is expected to answer both \(earlier) and \(expected)")
                }
                expectations[number] = expected
            }
        }
        guard !numbers.isEmpty else { throw ConfigFileError(file: file, path: "callees.csv", message: "the file has no numbers") }
        return CalleeList(numbers: NumberSet(list: numbers), expectations: expectations)
    }

    /// UTF-8 bytes as a String (the contiguous fast path).
    static func string(_ bytes: ArraySlice<UInt8>) -> String {
        bytes.withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) }
    }

    static func trim(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var b = bytes
        while let f = b.first, f == UInt8(ascii: " ") || f == UInt8(ascii: "\t") { b = b.dropFirst() }
        while let l = b.last, l == UInt8(ascii: " ") || l == UInt8(ascii: "\t") { b = b.dropLast() }
        return b
    }

    /// `+` and 3 to 15 digits (as `NumberSet.isE164`), on bytes.
    static func isE164(_ b: ArraySlice<UInt8>) -> Bool {
        b.count >= 4 && b.count <= 16 && b.first == UInt8(ascii: "+") && b.dropFirst().allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }
}
