import Foundation
import MetaMock

/// `POST /<PHONE_NUMBER_ID>/settings` with a `calling` object (spec §6; Meta's SIP page): validated as a
/// whole, then applied to the number in one step, or not at all.
/// - `calling.status`, `calling.sip.status`: ENABLED or DISABLED; disabling keeps the servers.
/// - `calling.sip.servers`: the calling app's own server (one per app): `[]` deletes it (and its password),
///   `[{hostname, port, request_uri_user_params}]` sets it. An app configuring a server it did not have gets
///   a new password: disable and delete, then configure again, is Meta's password rotation.
/// - At least one server (of any app) must exist while SIP is ENABLED.
/// - `srtp_key_exchange_protocol` (DTLS, SDES), `audio.additional_codecs` (PCMA, PCMU).
/// - `call_icon_visibility`, `callback_permission_status`, `call_hours`, `voicemail`, `sip.webhook_delivery`
///   are kept and returned, not acted on.
struct CallingSettingsUpdate {
    /// The largest hostname (RFC 1035) and user parameter name or value (Meta: 128 characters each).
    static let maxHostname = 253
    static let maxParameter = 128

    private var callingStatus: Bool?
    private var sipStatus: Bool?
    /// nil: servers untouched; `.some(nil)`: delete the app's server.
    private var server: MockConfiguration.SIPServer??
    private var keyExchange: String?
    private var codecs: [String]?
    private var others: [String: String] = [:]

    /// Reads the request body; every refusal is error 100 naming the parameter.
    init(json body: Data, appID: String) throws(GraphError) {
        guard let object = try? JSONSerialization.jsonObject(with: body), let top = object as? [String: Any] else {
            throw .invalidParameter("The request body is not a JSON object")
        }
        if let unknown = top.keys.first(where: { $0 != "calling" }) {
            throw .invalidParameter("Param \(unknown) is not supported by the wasim mock (only calling)")
        }
        guard let calling = top["calling"] as? [String: Any] else { throw .invalidParameter("Param calling must be an object") }
        for (key, value) in calling {
            switch key {
            case "status": callingStatus = try Self.enabled(value, "calling[status]")
            case "srtp_key_exchange_protocol": keyExchange = try Self.choice(value, ["DTLS", "SDES"], "calling[srtp_key_exchange_protocol]")
            case "audio":
                guard let audio = value as? [String: Any] else { throw .invalidParameter("Param calling[audio] must be an object") }
                for (k, v) in audio {
                    guard k == "additional_codecs" else { throw .invalidParameter("Param calling[audio][\(k)] is not a valid parameter") }
                    guard let list = v as? [Any] else { throw .invalidParameter("Param calling[audio][additional_codecs] must be an array") }
                    var seen: [String] = []
                    for (i, item) in list.enumerated() {
                        let codec = try Self.choice(item, ["PCMA", "PCMU"], "calling[audio][additional_codecs][\(i)]")
                        if !seen.contains(codec) { seen.append(codec) }
                    }
                    codecs = seen
                }
            case "call_icon_visibility":
                others[key] = try Self.json(Self.choice(value, ["DEFAULT", "DISABLE_ALL"], "calling[\(key)]"))
            case "callback_permission_status":
                others[key] = try Self.json(Self.choice(value, ["ENABLED", "DISABLED"], "calling[\(key)]"))
            case "call_hours", "voicemail":
                guard value is [String: Any] else { throw .invalidParameter("Param calling[\(key)] must be an object") }
                others[key] = try Self.json(value)
            case "sip":
                guard let sip = value as? [String: Any] else { throw .invalidParameter("Param calling[sip] must be an object") }
                try readSIP(sip, appID: appID)
            default:
                throw .invalidParameter("Param calling[\(key)] is not a valid parameter")
            }
        }
    }

    private mutating func readSIP(_ sip: [String: Any], appID: String) throws(GraphError) {
        for (key, value) in sip {
            switch key {
            case "status": sipStatus = try Self.enabled(value, "calling[sip][status]")
            case "webhook_delivery":
                others["sip.webhook_delivery"] = try Self.json(Self.choice(value, ["ENABLED", "DISABLED"], "calling[sip][webhook_delivery]"))
            case "servers":
                guard let list = value as? [Any] else { throw .invalidParameter("Param calling[sip][servers] must be an array") }
                guard list.count <= 1 else {
                    throw .invalidParameter("Param calling[sip][servers] holds \(list.count) servers: an app configures one SIP server per phone number")
                }
                if let first = list.first {
                    server = .some(try Self.server(first, appID: appID))
                } else {
                    server = .some(nil)
                }
            default:
                throw .invalidParameter("Param calling[sip][\(key)] is not a valid parameter")
            }
        }
    }

    private static func server(_ value: Any, appID: String) throws(GraphError) -> MockConfiguration.SIPServer {
        let path = "calling[sip][servers][0]"
        guard let object = value as? [String: Any] else { throw .invalidParameter("Param \(path) must be an object") }
        if let unknown = object.keys.first(where: { !["hostname", "port", "request_uri_user_params"].contains($0) }) {
            throw .invalidParameter("Param \(path)[\(unknown)] is not a valid parameter")
        }
        guard let hostname = object["hostname"] as? String else { throw .invalidParameter("Param \(path)[hostname] is required") }
        guard isHostname(hostname) else {
            throw .invalidParameter("Param \(path)[hostname] must be a DNS name of at most \(maxHostname) characters (TLS needs a name, not an IP address): '\(hostname)'")
        }
        var port = 5061
        if let p = object["port"] {
            guard let n = p as? Int, !(p is Bool), (1...65535).contains(n) else { throw .invalidParameter("Param \(path)[port] must be an integer from 1 to 65535") }
            port = n
        }
        var params: [String: String] = [:]
        if let p = object["request_uri_user_params"] {
            guard let map = p as? [String: Any] else { throw .invalidParameter("Param \(path)[request_uri_user_params] must be an object") }
            for (k, v) in map {
                guard let s = v as? String else { throw .invalidParameter("Param \(path)[request_uri_user_params][\(k)] must be a string") }
                guard !k.isEmpty, k.count <= maxParameter, s.count <= maxParameter else {
                    throw .invalidParameter("Param \(path)[request_uri_user_params]: each key and value is at most \(maxParameter) characters (key '\(k.prefix(20))')")
                }
                guard isParameterText(k), s.isEmpty || isParameterText(s) else {
                    throw .invalidParameter("Param \(path)[request_uri_user_params][\(k)] has characters a SIP URI user parameter cannot carry")
                }
                params[k] = s
            }
        }
        return MockConfiguration.SIPServer(appID: appID, hostname: hostname.lowercased(), port: port, requestURIUserParams: params)
    }

    /// Applies the update to `business` (the caller commits it) and says what changed, for the mock's log;
    /// a refusal leaves `business` as it was.
    func apply(to business: inout MockConfiguration.Business, appID: String) throws(GraphError) -> [String] {
        var b = business, changes: [String] = []
        if let callingStatus, callingStatus != b.callingEnabled {
            b.callingEnabled = callingStatus
            changes.append("calling.status \(Self.word(callingStatus))")
        }
        if let server {
            let index = b.servers.firstIndex { $0.appID == appID }
            if let new = server {
                if let index { b.servers[index] = new } else { b.servers.append(new) }
                changes.append("app \(appID)'s SIP server \(new.hostname):\(new.port)")
                if let a = b.apps.firstIndex(where: { $0.appID == appID }), b.apps[a].sipPassword.isEmpty {
                    b.apps[a].sipPassword = MockConfiguration.App.newSIPPassword()
                    changes.append("app \(appID)'s SIP password generated")
                }
            } else if let index {
                b.servers.remove(at: index)
                changes.append("app \(appID)'s SIP server deleted, its password discarded")
                if let a = b.apps.firstIndex(where: { $0.appID == appID }) { b.apps[a].sipPassword = "" }
            }
        }
        if let sipStatus, sipStatus != b.sipEnabled {
            b.sipEnabled = sipStatus
            changes.append("calling.sip.status \(Self.word(sipStatus))")
        }
        if b.sipEnabled, b.servers.isEmpty {
            throw .invalidParameter("At least 1 SIP server of any app must exist when SIP status is ENABLED")
        }
        if let keyExchange {
            b.srtpKeyExchangeSetting = keyExchange
            changes.append("srtp_key_exchange_protocol \(keyExchange)")
        }
        if let codecs {
            b.additionalCodecs = codecs
            changes.append("additional_codecs [\(codecs.joined(separator: ", "))]")
        }
        for (k, v) in others.sorted(by: { $0.key < $1.key }) {
            b.otherCallingSettings[k] = v
            changes.append("\(k) \(v)")
        }
        business = b
        return changes
    }

    // MARK: Reading values

    static func word(_ enabled: Bool) -> String { enabled ? "ENABLED" : "DISABLED" }

    private static func enabled(_ value: Any, _ name: String) throws(GraphError) -> Bool {
        try choice(value, ["ENABLED", "DISABLED"], name) == "ENABLED"
    }

    private static func choice(_ value: Any, _ allowed: [String], _ name: String) throws(GraphError) -> String {
        guard let s = value as? String, allowed.contains(s) else {
            throw .invalidParameter("Param \(name) must be one of {\(allowed.joined(separator: ", "))} - got \(describe(value))")
        }
        return s
    }

    private static func describe(_ value: Any) -> String {
        if let s = value as? String { return "\"\(s)\"" }
        return (try? json(value)) ?? "\(value)"
    }

    static func json(_ value: Any) throws(GraphError) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys]) else {
            throw .invalidParameter("A value is not JSON")
        }
        return String(decoding: data, as: UTF8.self)
    }

    static func isHostname(_ h: String) -> Bool {
        guard !h.isEmpty, h.count <= maxHostname, !h.hasPrefix("."), !h.hasSuffix(".") else { return false }
        let labels = h.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, !labels.allSatisfy({ $0.allSatisfy(\.isNumber) }) else { return false }
        return labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }

    /// RFC 3261 `paramchar`s without escapes: unreserved and `[]/:&+$`.
    private static func isParameterText(_ s: String) -> Bool {
        s.allSatisfy { c in c.isASCII && (c.isLetter || c.isNumber || "-_.!~*'()[]/:&+$".contains(c)) }
    }
}
