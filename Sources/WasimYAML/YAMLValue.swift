import Foundation
import Yams

/// A node of a YAML document with its path and position, and typed readers that fail with a
/// `ConfigFileError` naming the file, line and path. Unknown keys are errors (a typo must never be ignored).
public struct YAMLValue {
    public let node: Node
    public let path: String
    public let file: String

    public init(node: Node, path: String, file: String) {
        self.node = node
        self.path = path
        self.file = file
    }

    public func error(_ message: String) -> ConfigFileError {
        ConfigFileError(file: file, line: node.mark?.line, column: node.mark?.column, path: path, message: message)
    }

    private func child(_ key: String, _ node: Node) -> YAMLValue {
        YAMLValue(node: node, path: path.isEmpty ? key : "\(path).\(key)", file: file)
    }

    /// The mapping's entries, rejecting keys not in `allowed` (with a suggestion for a near miss).
    public func mapping(allowed: [String]) throws -> [String: YAMLValue] {
        guard case .mapping(let mapping) = node else { throw error("expected a mapping, found \(kind)") }
        var result: [String: YAMLValue] = [:]
        for (keyNode, valueNode) in mapping {
            guard let key = keyNode.string else { throw error("mapping keys must be strings") }
            guard allowed.contains(key) else {
                let keyValue = YAMLValue(node: keyNode, path: path.isEmpty ? key : "\(path).\(key)", file: file)
                let hint = Self.nearest(key, in: allowed).map { " (did you mean '\($0)'?)" } ?? ""
                throw keyValue.error("unknown key '\(key)'\(hint); allowed: \(allowed.joined(separator: ", "))")
            }
            result[key] = child(key, valueNode)
        }
        return result
    }

    public func sequence() throws -> [YAMLValue] {
        guard case .sequence(let seq) = node else { throw error("expected a list, found \(kind)") }
        return seq.enumerated().map { YAMLValue(node: $0.element, path: "\(path)[\($0.offset)]", file: file) }
    }

    public func string() throws -> String {
        guard case .scalar(let scalar) = node else { throw error("expected a string, found \(kind)") }
        return scalar.string
    }

    public func int(min: Int = Int.min, max: Int = Int.max) throws -> Int {
        guard let text = try? string(), let value = Int(text.replacingOccurrences(of: "_", with: "")) else {
            throw error("expected a whole number, found '\((try? string()) ?? kind)'")
        }
        guard value >= min && value <= max else { throw error("\(value) is out of range \(min)...\(max)") }
        return value
    }

    public func double() throws -> Double {
        guard let text = try? string(), let value = Double(text) else { throw error("expected a number, found '\((try? string()) ?? kind)'") }
        return value
    }

    public func bool() throws -> Bool {
        switch try string().lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error("expected true or false")
        }
    }

    /// The longest duration any field takes: 30 days (a soak), far inside what a time in nanoseconds holds.
    public static let longestDuration = 30.0 * 86_400

    /// A duration with a unit: `250ms`, `5s`, `2m`, `1h`; a bare number is seconds. At most 30 days.
    public func seconds() throws -> Double {
        let text = try string().trimmingCharacters(in: .whitespaces)
        let units: [(String, Double)] = [("ms", 0.001), ("us", 0.000_001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        var value: Double? = nil
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            if let number = Double(text.dropLast(suffix.count)) { value = number * factor; break }
        }
        if value == nil { value = Double(text) }
        guard let value, value.isFinite else { throw error("expected a duration like 500ms, 5s or 2m, found '\(text)'") }
        guard value >= 0 else { throw error("a duration is not negative, found '\(text)'") }
        guard value <= Self.longestDuration else { throw error("'\(text)' is longer than the longest duration wasim takes, 30d") }
        return value
    }

    /// The highest rate any field takes, calls per second.
    public static let highestRate = 1_000_000.0

    /// A rate `N/s` (or `N/m`); a bare number is per second. Above 0, at most 1,000,000/s.
    public func ratePerSecond() throws -> Double {
        let text = try string().replacingOccurrences(of: " ", with: "")
        var value: Double?
        if text.hasSuffix("/s") { value = Double(text.dropLast(2)) }
        else if text.hasSuffix("/m") { value = Double(text.dropLast(2)).map { $0 / 60 } }
        else { value = Double(text) }
        guard let value, value.isFinite else { throw error("expected a rate like 200/s, found '\(text)'") }
        guard value > 0 else { throw error("a rate is above 0/s, found '\(text)'") }
        guard value <= Self.highestRate else { throw error("'\(text)' is above the highest rate wasim takes, 1000000/s") }
        return value
    }

    /// One of `choices`.
    public func choice(_ choices: [String]) throws -> String {
        let text = try string()
        guard choices.contains(text) else {
            let hint = Self.nearest(text, in: choices).map { " (did you mean '\($0)'?)" } ?? ""
            throw error("'\(text)' is not one of \(choices.joined(separator: ", "))\(hint)")
        }
        return text
    }

    public var kind: String {
        switch node {
        case .scalar: return "a scalar"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    /// The closest allowed word within edit distance 2.
    public static func nearest(_ word: String, in words: [String]) -> String? {
        let scored = words.map { ($0, editDistance(word.lowercased(), $0.lowercased())) }.filter { $0.1 <= 2 }
        return scored.min { $0.1 < $1.1 }?.0
    }

    public static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a), y = Array(b)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var previous = Array(0...y.count)
        for i in 1...x.count {
            var current = [i] + Array(repeating: 0, count: y.count)
            for j in 1...y.count {
                current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[y.count]
    }


    /// True when the node is a plain scalar.
    /// A plain `null`, `~` or empty scalar.
    public var isNull: Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain else { return false }
        return ["null", "Null", "NULL", "~", ""].contains(scalar.string)
    }

    public var isScalar: Bool { if case .scalar = node { return true } else { return false } }

    /// Reads and parses a YAML file. A missing file, a folder, an unreadable file and a file that is not
    /// text each get their own error, naming the file.
    public static func document(path: String) throws -> YAMLValue {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw ConfigFileError(file: path, path: "", message: "no such file")
        }
        guard !isFolder.boolValue else { throw ConfigFileError(file: path, path: "", message: "is a folder, not a YAML file") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigFileError(file: path, path: "", message: "cannot read the file (permission denied?)")
        }
        guard !data.contains(0), let text = String(data: data, encoding: .utf8) else {
            throw ConfigFileError(file: path, path: "", message: "is not a text file (binary, or not UTF-8): expected YAML")
        }
        return try document(text, file: path)
    }

    /// Parses a YAML document, with syntax errors located.
    public static func document(_ text: String, file: String) throws -> YAMLValue {
        do {
            guard let node = try Yams.compose(yaml: text) else { throw ConfigFileError(file: file, path: "", message: "the file is empty") }
            return YAMLValue(node: node, path: "", file: file)
        } catch let error as ConfigFileError {
            throw error
        } catch let error as YamlError {
            var line: Int? = nil
            switch error {
            case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): line = mark.line
            default: break
            }
            throw ConfigFileError(file: file, line: line, path: "", message: "not valid YAML: \(error)")
        }
    }
}
