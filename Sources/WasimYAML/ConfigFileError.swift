/// A problem with a scenario or mock configuration file, located by file, line, column and YAML path
/// (`load.rate`, `users[2].permission`), so the user can go straight to it.
public struct ConfigFileError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var line: Int?
    public var column: Int?
    public var path: String
    public var message: String
    /// Further errors of the same file (`YAMLValue.collectingErrors`), each on its own line after this one.
    public var further: [ConfigFileError] = []

    public init(file: String, line: Int? = nil, column: Int? = nil, path: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.path = path
        self.message = message
    }

    public var description: String {
        var location = file
        if let line { location += ":\(line)" }
        if let column { location += ":\(column)" }
        let first = "\(location): \(path.isEmpty ? "(document)" : path): \(message)"
        return ([first] + further.map(\.description)).joined(separator: "\n")
    }
}
