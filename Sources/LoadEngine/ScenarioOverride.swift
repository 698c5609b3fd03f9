import WasimYAML
import Yams

/// A command-line change to one scenario field (`--set load.rate=200/s`, or `--rate 200/s`), applied to the
/// YAML document before it is checked, so an override meets the same validation as the file and a rerun
/// with the same flags is the same run.
public struct ScenarioOverride: Sendable, Hashable, CustomStringConvertible {
    /// Dotted YAML path (`load.rate`, `call.hold`, `transport.protocol`).
    public var path: String
    /// The value as YAML text (`200/s`, `{ share: 0.1, after: 2s }`); empty removes the key.
    public var value: String
    /// The flag that made it (`--rate`, `--set`), for the run header.
    public var flag: String

    public init(path: String, value: String, flag: String = "--set") {
        self.path = path
        self.value = value
        self.flag = flag
    }

    /// `path=value` as `--set` takes it.
    public init(parsing text: String) throws {
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
            throw ConfigFileError(file: "--set", path: text, message: "expected PATH=VALUE, like load.rate=200/s")
        }
        let path = String(text[..<eq]).trimmingCharacters(in: .whitespaces)
        guard path.split(separator: ".", omittingEmptySubsequences: false).allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } }) else {
            throw ConfigFileError(file: "--set", path: path, message: "a path is keys joined by dots, like call.hold")
        }
        self.init(path: path, value: String(text[text.index(after: eq)...]))
    }

    public var description: String { "\(path)=\(value)" }

    /// `--rate R`: steady arrivals at R (constant, or Poisson when the file asks for Poisson arrivals), in
    /// place of the file's burst or ramp.
    public static func rate(_ rate: String, file: String) -> [ScenarioOverride] {
        let load = (try? YAMLValue.document(path: file))?.node.mapping?["load"]
        let poisson = load?.mapping?["arrivals"]?.string == "poisson"
        return [ScenarioOverride(path: "load.burst", value: "", flag: "--rate"), ScenarioOverride(path: "load.stages", value: "", flag: "--rate"),
                ScenarioOverride(path: "load.arrivals", value: poisson ? "poisson" : "constant", flag: "--rate"),
                ScenarioOverride(path: "load.rate", value: rate, flag: "--rate")]
    }

    /// The document with every override applied in order (later ones win). Intermediate mappings are made
    /// when missing; a path through a list or a scalar is an error naming the override.
    static func apply(_ overrides: [ScenarioOverride], to document: YAMLValue) throws -> YAMLValue {
        var root = document.node
        for o in overrides {
            let keys = o.path.split(separator: ".").map(String.init)
            let value: Node?
            if o.value.isEmpty { value = nil } else {
                do { value = try Yams.compose(yaml: o.value) ?? Node(o.value) } catch {
                    throw ConfigFileError(file: document.file, path: o.path, message: "\(o.flag) value '\(o.value)' is not valid YAML")
                }
            }
            root = try set(keys[...], value, in: root, override: o, file: document.file)
        }
        return YAMLValue(node: root, path: "", file: document.file)
    }

    private static func set(_ keys: ArraySlice<String>, _ value: Node?, in node: Node, override o: ScenarioOverride, file: String) throws -> Node {
        guard let key = keys.first else { return value ?? node }
        guard var mapping = node.mapping else {
            throw ConfigFileError(file: file, line: node.mark?.line, column: node.mark?.column, path: o.path,
                                  message: "\(o.flag) \(o) reaches into a value that is not a mapping")
        }
        if keys.count == 1 {
            mapping[key] = value
        } else {
            let child = mapping[key] ?? Node.mapping(Node.Mapping([]))
            mapping[key] = try set(keys.dropFirst(), value, in: child, override: o, file: file)
        }
        return .mapping(mapping)
    }
}
