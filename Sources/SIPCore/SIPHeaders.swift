/// One header field line: its name and its unfolded value as read (or as set).
public struct SIPHeaderField: Sendable, Hashable {
    public var name: SIPHeaderName
    public var value: Substring

    public init(name: SIPHeaderName, value: Substring) {
        self.name = name
        self.value = value
    }
}

/// The header fields of a message, in order. Lookups are case-insensitive and compact-form aware; repeated
/// fields and comma-separated values are both kept (RFC 3261 §7.3.1).
public struct SIPHeaders: Sendable, Hashable, Sequence, ExpressibleByArrayLiteral {
    public private(set) var fields: [SIPHeaderField]

    public init() { fields = [] }

    public init(_ fields: [SIPHeaderField]) { self.fields = fields }

    /// No fields yet, room for `capacity` (a message built field by field grows no further).
    public init(capacity: Int) {
        fields = []
        fields.reserveCapacity(capacity)
    }

    public init(arrayLiteral elements: (SIPHeaderName, String)...) {
        fields = elements.map { SIPHeaderField(name: $0.0, value: Substring($0.1)) }
    }

    public func makeIterator() -> IndexingIterator<[SIPHeaderField]> { fields.makeIterator() }

    public var count: Int { fields.count }

    /// The first field's value for `name`.
    public subscript(name: SIPHeaderName) -> Substring? {
        for field in fields where field.name == name { return field.value }
        return nil
    }

    /// Every field line with this name, unsplit.
    public func lines(_ name: SIPHeaderName) -> [Substring] {
        fields.compactMap { $0.name == name ? $0.value : nil }
    }

    /// Every value with this name: repeated lines, and for list headers the comma-separated elements of each
    /// line (commas inside quotes or `<...>` do not split).
    public func values(_ name: SIPHeaderName) -> [Substring] {
        var result: [Substring] = []
        for field in fields where field.name == name {
            if name.isList, SIPHeaders.mayHoldSeveral(field.value) {
                result.append(contentsOf: SIPHeaders.splitList(field.value))
            } else {
                result.append(field.value)
            }
        }
        return result
    }

    public func contains(_ name: SIPHeaderName) -> Bool { fields.contains { $0.name == name } }

    public func count(of name: SIPHeaderName) -> Int { fields.reduce(0) { $0 + ($1.name == name ? 1 : 0) } }

    public mutating func add(_ name: SIPHeaderName, _ value: String) {
        fields.append(SIPHeaderField(name: name, value: Substring(value)))
    }

    public mutating func add(_ name: SIPHeaderName, _ value: Substring) {
        fields.append(SIPHeaderField(name: name, value: value))
    }

    /// Inserts before every existing field (used for Via and Record-Route, which are prepended).
    public mutating func prepend(_ name: SIPHeaderName, _ value: String) {
        fields.insert(SIPHeaderField(name: name, value: Substring(value)), at: 0)
    }

    /// Inserts before the first field with this name, or appends when there is none.
    public mutating func insertFirst(_ name: SIPHeaderName, _ value: String) {
        if let i = fields.firstIndex(where: { $0.name == name }) {
            fields.insert(SIPHeaderField(name: name, value: Substring(value)), at: i)
        } else {
            add(name, value)
        }
    }

    /// Replaces every field with this name by one field (or appends it).
    public mutating func set(_ name: SIPHeaderName, _ value: String) {
        if let i = fields.firstIndex(where: { $0.name == name }) {
            fields[i].value = Substring(value)
            var j = fields.count - 1
            while j > i {
                if fields[j].name == name { fields.remove(at: j) }
                j -= 1
            }
        } else {
            add(name, value)
        }
    }

    public mutating func remove(_ name: SIPHeaderName) { fields.removeAll { $0.name == name } }

    /// Removes the first value of a list header (the top Via, say), whether it stands alone on its line or
    /// first in a comma-separated line.
    public mutating func removeFirstValue(_ name: SIPHeaderName) {
        guard let i = fields.firstIndex(where: { $0.name == name }) else { return }
        let parts = SIPHeaders.splitList(fields[i].value)
        if parts.count <= 1 {
            fields.remove(at: i)
        } else {
            fields[i].value = Substring(parts.dropFirst().joined(separator: ", "))
        }
    }

    /// Splits a list header value at top-level commas.
    public static func splitList(_ value: Substring) -> [Substring] {
        var value = value
        // Cut points (byte offsets) found on the contiguous bytes, then substrings made from them.
        var cuts: [Int] = []
        let count = value.withUTF8 { bytes -> Int in
            var i = 0
            var inQuotes = false
            var angle = 0
            while i < bytes.count {
                let byte = bytes[i]
                if inQuotes {
                    if byte == UInt8(ascii: "\\") {
                        i += 1
                        if i == bytes.count { break }
                    } else if byte == UInt8(ascii: "\"") {
                        inQuotes = false
                    }
                } else if byte == UInt8(ascii: "\"") {
                    inQuotes = true
                } else if byte == UInt8(ascii: "<") {
                    angle += 1
                } else if byte == UInt8(ascii: ">") {
                    angle -= 1
                } else if byte == UInt8(ascii: ","), angle <= 0 {
                    cuts.append(i)
                }
                i += 1
            }
            return bytes.count
        }
        if cuts.isEmpty { return [value.trimmingWhitespace()] }
        var parts: [Substring] = []
        parts.reserveCapacity(cuts.count + 1)
        let utf8 = value.utf8
        var start = 0
        for cut in cuts + [count] {
            let lo = utf8.index(utf8.startIndex, offsetBy: start)
            let hi = utf8.index(lo, offsetBy: cut - start)
            parts.append(Substring(utf8[lo..<hi]).trimmingWhitespace())
            start = cut + 1
        }
        return parts
    }

    /// True when a list header line may hold several values (it has a comma somewhere).
    @inlinable static func mayHoldSeveral(_ value: Substring) -> Bool {
        var value = value
        return value.withUTF8 { $0.contains(UInt8(ascii: ",")) }
    }
}

extension Substring {
    /// The value without leading and trailing SP/HTAB/CR/LF.
    public func trimmingWhitespace() -> Substring {
        let utf8 = self.utf8
        guard let first = utf8.first, let last = utf8.last else { return self }
        if !SIPGrammar.isWhitespace(first) && !SIPGrammar.isWhitespace(last) { return self }
        var start = utf8.startIndex
        var end = utf8.endIndex
        while start != end, SIPGrammar.isWhitespace(utf8[start]) { start = utf8.index(after: start) }
        while end != start {
            let before = utf8.index(before: end)
            guard SIPGrammar.isWhitespace(utf8[before]) else { break }
            end = before
        }
        return Substring(utf8[start..<end])
    }
}
