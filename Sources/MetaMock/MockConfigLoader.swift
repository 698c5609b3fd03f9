import Foundation
import NIOCore
import SIPTransport
import WasimMedia
import SIPAuth
import WasimYAML

/// Reads a mock configuration file. Missing keys keep their defaults; unknown keys and bad values are errors
/// naming the file, line and YAML path.
public enum MockConfigLoader {
    public static func load(path: String) throws -> MockConfiguration { try parse(YAMLValue.document(path: path)) }

    public static func parse(_ text: String, file: String) throws -> MockConfiguration { try parse(YAMLValue.document(text, file: file)) }

    /// Every error of the document at once (`YAMLValue.collectingErrors`).
    static func parse(_ doc: YAMLValue) throws -> MockConfiguration { try YAMLValue.collectingErrors(doc, parseOnce) }

    static func parseOnce(_ doc: YAMLValue) throws -> MockConfiguration {
        let top = try doc.mapping(allowed: ["domain", "seed", "businesses", "users", "limits", "auth", "domain_match", "timers", "sip", "tls", "uic", "headers", "media", "protection", "graph_api"])
        var config = MockConfiguration()
        if let v = top["domain"] { config.domain = try headerText(v, maxLength: 253) }
        if let v = top["seed"] { config.seed = UInt64(try v.int(min: 0)) }
        if let v = top["businesses"] {
            config.businesses = try v.sequence().map(business)
            guard !config.businesses.isEmpty else { throw v.error("at least one business is needed") }
            var seen = Set<String>()
            for (i, b) in config.businesses.enumerated() where !seen.insert(b.number).inserted {
                throw try v.sequence()[i].error("business \(b.number) appears twice")
            }
        }
        if let v = top["users"] { config.users = try v.sequence().map(userGroup) }
        if let v = top["limits"] {
            let m = try v.mapping(allowed: ["connected_bic_per_24h", "bic_attempts_per_24h", "concurrent_per_number",
                                                  "concurrency_limit_status", "call_rate_per_number", "unanswered_streak",
                                                  "bic_blocked_countries"])
            if let x = m["connected_bic_per_24h"] { config.limits.connectedBICPer24h = try x.int(min: 0) }
            if let x = m["bic_attempts_per_24h"] { config.limits.bicAttemptsPer24h = try x.int(min: 0) }
            if let x = m["call_rate_per_number"] { config.limits.callRatePerNumber = (try? x.string()) == "none" ? nil : try x.ratePerSecond() }
            if let x = m["concurrent_per_number"] { config.limits.concurrentPerNumber = try x.int(min: 1) }
            if let x = m["bic_blocked_countries"] {
                config.limits.bicBlockedCountries = Set(try x.sequence().map { item in
                    let code = try item.string()
                    guard code.count == 2, code.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
                        throw item.error("a country is an ISO 3166 code of two capital letters, like US")
                    }
                    return code
                })
            }
            if let x = m["concurrency_limit_status"] { config.limits.concurrencyLimitStatus = try x.int(min: 400, max: 699) }
            if let x = m["unanswered_streak"] {
                let s = try x.mapping(allowed: ["nudge", "revoke"])
                if let n = s["nudge"] { config.limits.streakNudge = try n.int(min: 1) }
                if let r = s["revoke"] { config.limits.streakRevoke = try r.int(min: 1) }
            }
        }
        if let v = top["auth"] {
            let m = try v.mapping(allowed: ["algorithms", "nonce_lifetime"])
            if let a = m["algorithms"] {
                config.digestAlgorithms = try a.sequence().map { item in
                    let name = try item.choice(DigestAlgorithm.allCases.map(\.rawValue))
                    return DigestAlgorithm(rawValue: name)!
                }
                guard !config.digestAlgorithms.isEmpty else { throw a.error("offer at least one algorithm") }
            }
            if let l = m["nonce_lifetime"] { config.nonceLifetimeSeconds = UInt64(try l.seconds()) }
        }
        if let v = top["domain_match"] {
            config.domainMatch = MockConfiguration.DomainMatch(rawValue: try v.choice(MockConfiguration.DomainMatch.allCases.map(\.rawValue)))!
        }
        if let v = top["timers"] {
            let m = try v.mapping(allowed: ["ring_timeout", "media_start_timeout", "media_timeout", "t1", "t2", "t4"])
            if let r = m["ring_timeout"] { config.ringTimeoutSeconds = try r.seconds() }
            if let r = m["media_start_timeout"] { config.mediaStartTimeoutSeconds = try r.seconds() }
            if let r = m["media_timeout"] { config.mediaTimeoutSeconds = try r.seconds() }
            func amount(_ x: YAMLValue) throws -> TimeAmount {
                let s = try x.seconds()
                guard s > 0 else { throw x.error("must be more than 0") }
                return .nanoseconds(Int64(s * 1e9))
            }
            if let x = m["t1"] { config.timers.t1 = try amount(x) }
            if let x = m["t2"] { config.timers.t2 = try amount(x) }
            if let x = m["t4"] { config.timers.t4 = try amount(x) }
        }
        if let v = top["tls"] {
            let m = try v.mapping(allowed: ["reject_alpn_sip"])
            if let x = m["reject_alpn_sip"] { config.rejectALPNSip = try x.bool() }
        }
        if let v = top["sip"] {
            let m = try v.mapping(allowed: ["send_ringing", "record_routes", "lab_route_host", "strict_in_dialog_route", "sdp_check", "wasim_headers",
                                                  "reinvite_ends_call", "wording", "reason_phrases"])
            if let x = m["wording"] {
                config.reasonPhrases = MetaReasonPhrases(MetaReasonPhrases.Wording(rawValue: try x.choice(MetaReasonPhrases.Wording.allCases.map(\.rawValue)))!)
            }
            if let x = m["reason_phrases"] {
                let phrases = try x.mapping(allowed: MetaReasonPhrases.keys.map(\.key))
                for (key, path) in MetaReasonPhrases.keys {
                    guard let value = phrases[key] else { continue }
                    let text = try headerText(value, maxLength: 256)
                    guard !text.isEmpty else { throw value.error("a reason phrase is one line of 1 to 256 characters") }
                    config.reasonPhrases[keyPath: path] = text
                }
            }
            if let x = m["wasim_headers"] { config.wasimHeaders = try x.bool() }
            if let x = m["sdp_check"] { config.sdpCheck = MetaSDPCheck(rawValue: try x.choice(MetaSDPCheck.allCases.map(\.rawValue)))! }
            if let x = m["strict_in_dialog_route"] { config.strictInDialogRoute = try x.bool() }
            if let x = m["reinvite_ends_call"] { config.reinviteEndsCall = try x.bool() }
            if let x = m["send_ringing"] { config.sendRinging = try x.bool() }
            if let x = m["record_routes"] { config.recordRoutes = try x.sequence().map { try headerText($0) } }
            if let x = m["lab_route_host"] { config.labRouteHost = try headerText(x, maxLength: 253) }
        }
        if let v = top["protection"] { config.protection = try protection(v) }
        if let v = top["graph_api"] { config.graphAPI = try graphAPI(v, businesses: config.businesses) }
        if let v = top["uic"] { config.uic = try uic(v, businesses: config.businesses) }
        if let v = top["media"] {
            let m = try v.mapping(allowed: ["enabled", "drop_client_hellos", "drop_dtls_before_nomination", "bic_dtls_setup", "probe", "ipv6_candidate", "ports"])
            if let x = m["ports"] {
                let ports = try x.sequence().map { try $0.int(min: 1, max: 65535) }
                guard Set(ports).count == ports.count else { throw x.error("a port appears twice") }
                config.media.ports = ports
            }
            if let x = m["ipv6_candidate"] {
                let text = try x.string()
                if text == "none" {
                    config.media.ipv6Candidate = nil
                } else {
                    guard text.contains(":"), text.allSatisfy({ $0.isHexDigit || $0 == ":" }) else { throw x.error("an IPv6 address such as 2a03:2880:f343:131:face:b00c:0:699c, or none") }
                    config.media.ipv6Candidate = text
                }
            }
            if let x = m["probe"] { config.media.probeSeconds = try x.seconds() }
            if let x = m["enabled"] { config.media.enabled = try x.bool() }
            if let x = m["bic_dtls_setup"] { config.media.bicDTLSSetup = try x.choice(["passive", "active"]) }
            config.media.impairment = try impairment(v, base: config.media.impairment, extra: ["enabled", "bic_dtls_setup", "probe", "ipv6_candidate", "ports"])
        }
        if let v = top["headers"] { config.headerNames = try headerNames(v) }
        for (i, plan) in config.uic.calls.enumerated() where config.business(number: plan.business) == nil {
            throw try top["uic"]!.mapping(allowed: uicKeys)["calls"]!.sequence()[i].error("business \(plan.business) is not in businesses")
        }
        return config
    }

    /// A string that goes into a SIP header or status line: one line, no control characters (checked per
    /// Unicode scalar: "\r\n" is a single Character).
    static func headerText(_ x: YAMLValue, maxLength: Int = 1024) throws -> String {
        let text = try x.string()
        guard text.count <= maxLength, !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw x.error("one line of at most \(maxLength) characters without control characters (it goes into a SIP message)")
        }
        return text
    }

    static func protection(_ v: YAMLValue) throws -> MockProtection {
        let m = try v.mapping(allowed: ["max_connections", "max_connections_per_source", "idle_timeout", "tls_handshake_timeout",
                                        "max_message_size", "auth_failures"])
        var p = MockProtection()
        func positiveSeconds(_ x: YAMLValue, max: Double) throws -> Double {
            let s = try x.seconds()
            guard s > 0, s <= max else { throw x.error("a duration above 0 and at most \(Int(max)) s, found '\(try x.string())'") }
            return s
        }
        if let x = m["max_connections"] { p.maxConnections = try x.int(min: 1, max: 1_000_000) }
        if let x = m["max_connections_per_source"] { p.maxConnectionsPerSource = try x.int(min: 1, max: 1_000_000) }
        if let x = m["idle_timeout"] {
            p.idleTimeoutSeconds = (try? x.string()) == "none" ? nil : try positiveSeconds(x, max: 86_400)
        }
        if let x = m["tls_handshake_timeout"] { p.tlsHandshakeTimeoutSeconds = try positiveSeconds(x, max: 600) }
        if let x = m["max_message_size"] { p.maxMessageSize = try x.int(min: 1_024, max: 1_048_576) }
        if let x = m["auth_failures"] {
            let a = try x.mapping(allowed: ["failures", "window", "lockout"])
            if let f = a["failures"] { p.authFailures.failures = try f.int(min: 0, max: 1_000_000) }
            if let w = a["window"] { p.authFailures.window = try positiveSeconds(w, max: 86_400) }
            if let l = a["lockout"] { p.authFailures.lockout = try positiveSeconds(l, max: 30 * 86_400) }
        }
        return p
    }

    static func graphAPI(_ v: YAMLValue, businesses: [MockConfiguration.Business]) throws -> MockGraphAPIConfiguration {
        let m = try v.mapping(allowed: ["tokens", "requests_per_second"])
        var g = MockGraphAPIConfiguration()
        if let r = m["requests_per_second"] {
            g.requestsPerSecond = Double(try r.int(min: 1, max: 1_000_000))
        }
        if let t = m["tokens"] {
            let apps = Set(businesses.flatMap { $0.apps.map(\.appID) })
            var seen = Set<String>()
            g.tokens = try t.sequence().map { item in
                let tm = try item.mapping(allowed: ["token", "app_id", "permissions"])
                guard let token = tm["token"], let app = tm["app_id"] else { throw item.error("a token needs token and app_id") }
                let text = try token.string(), appID = try app.string()
                guard !text.isEmpty, !text.contains(where: \.isWhitespace) else { throw token.error("a token is one word") }
                guard seen.insert(text).inserted else { throw token.error("token '\(text)' appears twice") }
                guard apps.contains(appID) else { throw app.error("app \(appID) is not an app of any business") }
                var permissions = MockGraphAPIConfiguration.allPermissions
                if let p = tm["permissions"] {
                    permissions = Set(try p.sequence().map { try $0.choice(MockGraphAPIConfiguration.allPermissions.sorted()) })
                }
                return MockGraphAPIConfiguration.AccessToken(token: text, appID: appID, permissions: permissions)
            }
        }
        return g
    }

    static func business(_ v: YAMLValue) throws -> MockConfiguration.Business {
        let m = try v.mapping(allowed: ["number", "phone_number_id", "apps", "sip_server", "srtp_key_exchange_protocol", "additional_codecs"])
        guard let numberValue = m["number"], let idValue = m["phone_number_id"], let appsValue = m["apps"] else {
            let missing = ["number", "phone_number_id", "apps"].filter { m[$0] == nil }
            throw v.error("a business needs number, phone_number_id and apps; missing: \(missing.joined(separator: ", "))")
        }
        let number = try numberValue.string()
        guard NumberSet.isE164(number) else { throw numberValue.error("'\(number)' is not an E.164 number like +33639980001") }
        let apps = try appsValue.sequence().map { a -> MockConfiguration.App in
            let am = try a.mapping(allowed: ["app_id", "authorized", "sip_password"])
            guard let id = am["app_id"] else { throw a.error("an app needs an app_id") }
            // Without one, Meta's generates a password when the app configures a SIP server.
            return MockConfiguration.App(appID: try id.string(), authorized: try am["authorized"]?.bool() ?? true,
                                         sipPassword: try am["sip_password"]?.string() ?? "")
        }
        guard !apps.isEmpty else { throw appsValue.error("at least one app is needed") }
        let codecs = try m["additional_codecs"]?.sequence().map { try $0.choice(["PCMA", "PCMU"]) } ?? []
        guard let serverValue = m["sip_server"] else {
            // No SIP server yet (to be provisioned through the Graph API): SIP is disabled, as Meta's default.
            var business = MockConfiguration.Business(number: number, phoneNumberID: try idValue.string(), apps: apps, sipServerHostname: "",
                                                      srtpKeyExchange: try m["srtp_key_exchange_protocol"]?.choice(["DTLS", "SDES"]))
            business.servers = []
            business.sipEnabled = false
            business.additionalCodecs = codecs
            return business
        }
        let sm = try serverValue.mapping(allowed: ["hostname", "port", "app_id", "request_uri_user_params", "connect_to", "transport", "status"])
        guard let host = sm["hostname"] else { throw serverValue.error("sip_server needs a hostname") }
        var params: [String: String] = [:]
        if let p = sm["request_uri_user_params"] {
            guard case .mapping(let mapping) = p.node else { throw p.error("expected a mapping of name: value") }
            for (k, val) in mapping {
                guard let key = k.string, let value = val.string, key.count <= 128, value.count <= 128 else {
                    throw p.error("each user parameter is a string of at most 128 characters (spec §3)")
                }
                params[key] = value
            }
        }
        let appID = try sm["app_id"]?.string()
        if let appID, !apps.contains(where: { $0.appID == appID }) {
            throw sm["app_id"]!.error("app \(appID) is not in this business's apps")
        }
        let srtp = try m["srtp_key_exchange_protocol"]?.choice(["DTLS", "SDES"])
        var business = MockConfiguration.Business(
            number: number, phoneNumberID: try idValue.string(), apps: apps, sipServerAppID: appID,
            sipServerHostname: try host.string(), sipServerPort: try sm["port"]?.int(min: 1, max: 65535) ?? 5061,
            requestURIUserParams: params, srtpKeyExchange: srtp)
        if let c = sm["connect_to"] {
            let text = try c.string()
            guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port),
                  colon > text.startIndex
            else { throw c.error("connect_to is host:port, e.g. 127.0.0.1:5071") }
            business.connectAddress = text
        }
        if let t = sm["transport"] { business.transport = SIPTransportKind(rawValue: try t.choice(["tls", "tcp", "udp"]))! }
        if let st = sm["status"] { business.sipEnabled = try st.choice(["enabled", "disabled", "ENABLED", "DISABLED"]).lowercased() == "enabled" }
        business.additionalCodecs = codecs
        let serverApp = business.servers[0].appID
        if let i = business.apps.firstIndex(where: { $0.appID == serverApp }), business.apps[i].sipPassword.isEmpty {
            business.apps[i].sipPassword = MockConfiguration.App.newSIPPassword()
        }
        return business
    }

    static func userGroup(_ v: YAMLValue) throws -> MockConfiguration.UserGroup {
        let m = try v.mapping(allowed: ["range", "list", "number", "permission", "behaviour", "media", "addressing"])
        let numbers: NumberSet
        if let r = m["range"] {
            guard let set = NumberSet(range: try r.string()) else { throw r.error("range must be '+FIRST..+LAST' with numbers of equal length") }
            numbers = set
        } else if let l = m["list"] {
            let items = try l.sequence().map { item -> String in
                let s = try item.string()
                guard NumberSet.isE164(s) else { throw item.error("'\(s)' is not an E.164 number") }
                return s
            }
            numbers = NumberSet(list: items)
        } else if let n = m["number"] {
            let s = try n.string()
            guard NumberSet.isE164(s) else { throw n.error("'\(s)' is not an E.164 number") }
            numbers = NumberSet(list: [s])
        } else {
            throw v.error("a user group needs range, list or number")
        }
        var permission = MockConfiguration.Permission.permanent
        if let p = m["permission"] {
            if p.isScalar {
                switch try p.choice(["none", "permanent", "temporary"]) {
                case "none": permission = .none
                case "permanent": permission = .permanent
                default: permission = .temporary(expiresAfter: 7 * 86400)
                }
            } else {
                let pm = try p.mapping(allowed: ["temporary"])
                guard let t = pm["temporary"] else { throw p.error("permission is none, permanent, temporary or { temporary: 7d }") }
                permission = .temporary(expiresAfter: try t.seconds())
            }
        }
        var behaviour = MockConfiguration.Behaviour()
        if let b = m["behaviour"] {
            let bm = try b.mapping(allowed: ["answer", "decline", "no_answer", "unreachable", "unavailable", "no_media", "answer_after", "hang_up_after"])
            behaviour = MockConfiguration.Behaviour(
                answer: try bm["answer"]?.double() ?? (bm.keys.contains(where: { $0 != "answer_after" && $0 != "hang_up_after" }) ? 0 : 1),
                decline: try bm["decline"]?.double() ?? 0, noAnswer: try bm["no_answer"]?.double() ?? 0,
                unreachable: try bm["unreachable"]?.double() ?? 0)
            behaviour.unavailable = try bm["unavailable"]?.double() ?? 0
            behaviour.noMedia = try bm["no_media"]?.double() ?? 0
            let weights = [behaviour.answer, behaviour.decline, behaviour.noAnswer, behaviour.unreachable, behaviour.unavailable, behaviour.noMedia]
            guard weights.allSatisfy({ $0 >= 0 }), weights.reduce(0, +) > 0 else { throw b.error("weights must be >= 0 and not all 0") }
            if let a = bm["answer_after"] { behaviour.answerAfter = try durationRange(a, "answer_after") }
            if let h = bm["hang_up_after"] { behaviour.hangUpAfter = try durationRange(h, "hang_up_after") }
        }
        var group = MockConfiguration.UserGroup(numbers: numbers, permission: permission, behaviour: behaviour)
        if let media = m["media"] { group.mediaImpairment = try impairment(media, base: .init(), extra: []) }
        if let a = m["addressing"] { group.addressedByBSUID = try a.choice(["number", "bsuid"]) == "bsuid" }
        return group
    }
}

extension MockConfigLoader {
    /// A duration or `[min, max]`.
    static func durationRange(_ a: YAMLValue, _ name: String) throws -> ClosedRange<Double> {
        if a.isScalar {
            let s = try a.seconds()
            return s...s
        }
        let bounds = try a.sequence()
        guard bounds.count == 2 else { throw a.error("\(name) is a duration or [min, max]") }
        let lo = try bounds[0].seconds(), hi = try bounds[1].seconds()
        guard lo <= hi else { throw a.error("min must not exceed max") }
        return lo...hi
    }

    /// `drop_client_hellos: N`, `drop_dtls_before_nomination: true` (spec §5.5 clipping causes).
    static func impairment(_ v: YAMLValue, base: MediaLeg.Impairment, extra: [String]) throws -> MediaLeg.Impairment {
        let m = try v.mapping(allowed: ["drop_client_hellos", "drop_dtls_before_nomination"] + extra)
        var out = base
        if let x = m["drop_client_hellos"] { out.dropClientHellos = try x.int(min: 0, max: 10) }
        if let x = m["drop_dtls_before_nomination"] { out.dropDTLSBeforeNomination = try x.bool() }
        return out
    }

    static let uicKeys = ["client_certificate", "ca_file", "answer_timeout", "calls"]

    static func uic(_ v: YAMLValue, businesses: [MockConfiguration.Business]) throws -> MockUICConfiguration {
        let m = try v.mapping(allowed: uicKeys)
        var uic = MockUICConfiguration()
        if let c = m["client_certificate"] {
            if c.isNull { uic.clientCertificate = .none } else {
                switch try c.string() {
                case "none": uic.clientCertificate = .none
                case "dynamic": uic.clientCertificate = .dynamicHost
                case let host where host.contains(".") && !host.contains(" "): uic.clientCertificate = .host(host)
                default: throw c.error("client_certificate is none, dynamic or a host name such as client.sip.fbclientcerts.com")
                }
            }
        }
        if let c = m["ca_file"] { uic.caFile = try c.string() }
        if let a = m["answer_timeout"] { uic.answerTimeoutSeconds = try a.seconds() }
        if let calls = m["calls"] {
            uic.calls = try calls.sequence().map { item in
                let cm = try item.mapping(allowed: ["users", "business", "count", "rate", "hold", "cta_payload", "deeplink_payload"])
                guard let usersValue = cm["users"] else { throw item.error("a call plan needs users (a range or list)") }
                let users: NumberSet
                if usersValue.isScalar {
                    let text = try usersValue.string()
                    if let range = NumberSet(range: text) { users = range } else if NumberSet.isE164(text) { users = NumberSet(list: [text]) } else {
                        throw usersValue.error("users is '+FIRST..+LAST', one E.164 number or a list")
                    }
                } else {
                    users = NumberSet(list: try usersValue.sequence().map { n in
                        let s = try n.string()
                        guard NumberSet.isE164(s) else { throw n.error("'\(s)' is not an E.164 number") }
                        return s
                    })
                }
                guard users.count > 0 else { throw usersValue.error("at least one user is needed") }
                let business = try cm["business"]?.string() ?? businesses.first?.number ?? ""
                var plan = MockUICConfiguration.CallPlan(users: users, business: business, count: try cm["count"]?.int(min: 1) ?? 1)
                if let r = cm["rate"] { plan.rate = try r.ratePerSecond() }
                if let h = cm["hold"] { plan.hold = try durationRange(h, "hold") }
                plan.ctaPayload = try cm["cta_payload"].map { try headerText($0) }
                plan.deeplinkPayload = try cm["deeplink_payload"].map { try headerText($0) }
                return plan
            }
        }
        return uic
    }

    static func headerNames(_ v: YAMLValue) throws -> MetaHeaderNames {
        let m = try v.mapping(allowed: ["wacid", "call_duration", "cta_payload", "deeplink_payload", "user_id", "user_name", "user_country_code", "phone_number_id"])
        var names = MetaHeaderNames()
        func name(_ key: String) throws -> String? {
            guard let x = m[key] else { return nil }
            let text = try x.string()
            guard !text.isEmpty, text.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != UInt8(ascii: ":") }) else {
                throw x.error("a header name is a token such as x-wa-meta-country-code")
            }
            return text
        }
        func optional(_ key: String, _ current: String?) throws -> String? {
            guard let x = m[key] else { return current }
            return x.isNull ? nil : try name(key)
        }
        names.wacid = try name("wacid") ?? names.wacid
        names.callDuration = try name("call_duration") ?? names.callDuration
        names.ctaPayload = try name("cta_payload") ?? names.ctaPayload
        names.deeplinkPayload = try name("deeplink_payload") ?? names.deeplinkPayload
        names.userID = try optional("user_id", names.userID)
        names.userName = try optional("user_name", names.userName)
        names.userCountryCode = try optional("user_country_code", names.userCountryCode)
        names.phoneNumberID = try optional("phone_number_id", names.phoneNumberID)
        return names
    }
}

