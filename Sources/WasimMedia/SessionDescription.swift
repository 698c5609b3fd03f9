/// An SDP session description (RFC 8866) with the parts WhatsApp calling uses: one audio m-line, its
/// codecs, ICE credentials and candidates (RFC 8839), DTLS fingerprint and setup role (RFC 8122, RFC 5763),
/// SDES crypto lines (RFC 4568) and rtcp-mux. Unknown lines are kept in order, so writing a parsed
/// description gives the lines back.
public struct SessionDescription: Sendable, Equatable {
    /// One `m=` section and the attributes under it.
    public struct Media: Sendable, Equatable {
        public var kind: String
        public var port: Int
        /// `RTP/AVP`, `RTP/SAVP`, `UDP/TLS/RTP/SAVPF`, ...
        public var profile: String
        public var formats: [Int]
        public var connection: String?
        /// Attribute lines without `a=`, in order (`rtpmap:111 opus/48000/2`, `rtcp-mux`).
        public var attributes: [String]

        public init(kind: String = "audio", port: Int, profile: String, formats: [Int], connection: String? = nil, attributes: [String] = []) {
            self.kind = kind
            self.port = port
            self.profile = profile
            self.formats = formats
            self.connection = connection
            self.attributes = attributes
        }

        /// Values of attributes named `name` (`a=name:value`).
        public func values(_ name: String) -> [String] {
            let prefix = name + ":"
            return attributes.compactMap { $0.hasPrefix(prefix) ? String($0.dropFirst(prefix.count)) : nil }
        }

        public func value(_ name: String) -> String? { values(name).first }

        public func has(_ flag: String) -> Bool { attributes.contains(flag) || attributes.contains { $0.hasPrefix(flag + ":") } }

        /// The payload type mapped to `codec` (`opus/48000`), case-insensitively.
        public func payloadType(_ codec: String) -> Int? {
            for v in values("rtpmap") {
                let parts = v.split(separator: " ", maxSplits: 1)
                if parts.count == 2, parts[1].lowercased().hasPrefix(codec.lowercased()) { return Int(parts[0]) }
            }
            return nil
        }

        /// `a=fingerprint:sha-256 AB:CD:…`: the hash function and the value.
        public var fingerprint: (hash: String, value: String)? {
            guard let v = value("fingerprint") else { return nil }
            let parts = v.split(separator: " ", maxSplits: 1)
            return parts.count == 2 ? (String(parts[0]).lowercased(), String(parts[1])) : nil
        }

        /// `a=setup`: actpass, active, passive or holdconn.
        public var setup: String? { value("setup") }
        public var iceUfrag: String? { value("ice-ufrag") }
        public var icePwd: String? { value("ice-pwd") }

        /// Host candidates as (address, port) (RFC 8839 §5.1).
        public var candidates: [(address: String, port: Int)] {
            values("candidate").compactMap { line in
                let f = line.split(separator: " ")
                guard f.count >= 8, f[2].lowercased() == "udp", let port = Int(f[5]) else { return nil }
                return (String(f[4]), port)
            }
        }

        /// SDES crypto lines (RFC 4568 §9.1): tag, suite and the inline key.
        public var cryptos: [(tag: Int, suite: String, key: String)] {
            values("crypto").compactMap { v in
                let f = v.split(separator: " ")
                guard f.count >= 3, let tag = Int(f[0]), f[2].hasPrefix("inline:") else { return nil }
                let key = f[2].dropFirst(7).split(separator: "|").first.map(String.init) ?? ""
                return (tag, String(f[1]), key)
            }
        }
    }

    /// Session-level lines before the first m-line, without the `v=`, `o=`, `s=`, `t=` lines' keys.
    public var origin: String
    public var sessionName: String
    public var connection: String?
    /// Session-level attributes (`ice-lite`, `group:BUNDLE audio`).
    public var attributes: [String]
    public var media: [Media]

    public init(origin: String, sessionName: String = "-", connection: String? = nil, attributes: [String] = [], media: [Media]) {
        self.origin = origin
        self.sessionName = sessionName
        self.connection = connection
        self.attributes = attributes
        self.media = media
    }

    public var audio: Media? { media.first { $0.kind == "audio" } }
    public var isICELite: Bool { attributes.contains("ice-lite") }

    /// The address media goes to: the audio connection, else the session's (`c=IN IP4 addr`).
    public var audioAddress: String? {
        let c = audio?.connection ?? connection
        return c?.split(separator: " ").last.map(String.init)
    }

    public enum ParseError: Error, Equatable { case missingVersion, badMediaLine(String) }

    /// Parses SDP text; lines may end in CRLF or LF (RFC 8866 §5 asks for CRLF, parsers accept LF).
    public init(parsing text: String) throws(ParseError) {
        var origin = "", name = "-", connection: String? = nil
        var attributes: [String] = []
        var media: [Media] = []
        var sawVersion = false
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            guard line.count >= 2, line[line.index(after: line.startIndex)] == "=" else { continue }
            let key = line.first!, value = String(line.dropFirst(2))
            switch key {
            case "v": sawVersion = true
            case "o": origin = value
            case "s": name = value
            case "c":
                if media.isEmpty { connection = value } else { media[media.count - 1].connection = value }
            case "m":
                let f = value.split(separator: " ")
                // `port` or `port/count` (RFC 8866 §5.14); a bare "/" has no port (found by fuzzing: it crashed).
                guard f.count >= 3, let port = Int(f[1].prefix { $0 != "/" }), (0...65535).contains(port) else { throw .badMediaLine(value) }
                media.append(Media(kind: String(f[0]), port: port, profile: String(f[2]), formats: f.dropFirst(3).compactMap { Int($0) }))
            case "a":
                if media.isEmpty { attributes.append(value) } else { media[media.count - 1].attributes.append(value) }
            default:
                break
            }
        }
        guard sawVersion else { throw .missingVersion }
        self.init(origin: origin, sessionName: name, connection: connection, attributes: attributes, media: media)
    }

    /// SDP text with CRLF line ends.
    public var text: String {
        var lines = ["v=0", "o=\(origin)", "s=\(sessionName)"]
        if let connection { lines.append("c=\(connection)") }
        lines.append("t=0 0")
        lines += attributes.map { "a=\($0)" }
        for m in media {
            lines.append("m=\(m.kind) \(m.port) \(m.profile) " + m.formats.map(String.init).joined(separator: " "))
            if let c = m.connection { lines.append("c=\(c)") }
            lines += m.attributes.map { "a=\($0)" }
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}
