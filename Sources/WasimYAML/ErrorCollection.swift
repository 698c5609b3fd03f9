import Yams

extension YAMLValue {
    /// Runs `parse` over `document` and reports every error of the file, not just the first: each time the
    /// parse fails, the node it names is taken out of the document and the parse runs again. The errors
    /// come back as one `ConfigFileError` (the first) with the others in `further`, in file order. It
    /// stops at 20 errors, at an error on the document itself or on a list item (taking an item out would
    /// renumber the ones after it), and at an error on a node above one already taken out (most likely a
    /// consequence of taking it out, such as a key now missing).
    public static func collectingErrors<T>(_ document: YAMLValue, _ parse: (YAMLValue) throws -> T) throws -> T {
        var current = document
        var errors: [ConfigFileError] = []
        var removed: [String] = []
        while true {
            let error: ConfigFileError
            do {
                let value = try parse(current)
                if errors.isEmpty { return value }
                break
            } catch let failure as ConfigFileError {
                error = failure
            }
            if !errors.isEmpty {
                let consequence = error.path.isEmpty
                    || removed.contains { $0 == error.path || $0.hasPrefix(error.path + ".") || $0.hasPrefix(error.path + "[") }
                if consequence || errors.contains(where: { $0.path == error.path && $0.message == error.message }) { break }
            }
            errors.append(error)
            guard errors.count < 20, let components = PathComponent.parse(error.path), case .key = components.last,
                  let pruned = removing(components[...], from: current.node)
            else { break }
            removed.append(error.path)
            current = YAMLValue(node: pruned, path: "", file: document.file)
        }
        throw combined(errors)
    }

    private static func combined(_ errors: [ConfigFileError]) -> ConfigFileError {
        var all = errors
        all.sort { ($0.line ?? 0, $0.column ?? 0) < ($1.line ?? 0, $1.column ?? 0) }
        var head = all[0]
        head.further = Array(all.dropFirst())
        return head
    }

    /// One step of a YAML path: `load`, `[2]`.
    enum PathComponent: Equatable {
        case key(String)
        case index(Int)

        /// `businesses[0].apps[1].sip_password` → key, index, key, index, key; nil for the document itself.
        static func parse(_ path: String) -> [PathComponent]? {
            guard !path.isEmpty else { return nil }
            var out: [PathComponent] = []
            for part in path.split(separator: ".", omittingEmptySubsequences: false) {
                var rest = Substring(part)
                if let open = rest.firstIndex(of: "[") {
                    let key = rest[..<open]
                    if !key.isEmpty { out.append(.key(String(key))) }
                    rest = rest[open...]
                    while rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
                        guard let i = Int(rest[rest.index(after: rest.startIndex)..<close]) else { return nil }
                        out.append(.index(i))
                        rest = rest[rest.index(after: close)...]
                    }
                    guard rest.isEmpty else { return nil }
                } else {
                    guard !rest.isEmpty else { return nil }
                    out.append(.key(String(rest)))
                }
            }
            return out
        }
    }

    /// `node` without the node at `path`; nil when there is none.
    private static func removing(_ path: ArraySlice<PathComponent>, from node: Node) -> Node? {
        guard let step = path.first else { return nil }
        switch (step, node) {
        case (.key(let key), .mapping(var mapping)):
            guard let child = mapping[key] else { return nil }
            if path.count == 1 {
                mapping[key] = nil
            } else {
                guard let pruned = removing(path.dropFirst(), from: child) else { return nil }
                mapping[key] = pruned
            }
            return .mapping(mapping)
        case (.index(let i), .sequence(var sequence)):
            guard path.count > 1, i >= 0, i < sequence.count else { return nil }
            let position = sequence.index(sequence.startIndex, offsetBy: i)
            guard let pruned = removing(path.dropFirst(), from: sequence[position]) else { return nil }
            sequence[position] = pruned
            return .sequence(sequence)
        default:
            return nil
        }
    }
}
