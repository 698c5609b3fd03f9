import NIOCore
import SIPTransport

/// Prints a configuration in the file format `MockConfigLoader` reads (passwords included: an integrator
/// configures the SBC from it).
public enum MockConfigWriter {
    public static func yaml(_ c: MockConfiguration) -> String {
        func q(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        func d(_ s: Double) -> String { s == s.rounded() ? "\(Int(s))s" : "\(Int((s * 1000).rounded()))ms" }
        var out = "# wasim mock configuration (effective)\n"
        out += "domain: \(c.domain)\nseed: \(c.seed)\nbusinesses:\n"
        for b in c.businesses {
            out += "  - number: \(q(b.number))\n    phone_number_id: \(q(b.phoneNumberID))\n    apps:\n"
            for a in b.apps {
                out += "      - { app_id: \(q(a.appID)), authorized: \(a.authorized), sip_password: \(q(a.sipPassword)) }\n"
            }
            if let server = b.servers.first {
                out += "    sip_server:\n      hostname: \(server.hostname)\n      port: \(server.port)\n      app_id: \(q(server.appID))\n"
                if !server.requestURIUserParams.isEmpty {
                    out += "      request_uri_user_params: { " + server.requestURIUserParams.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + " }\n"
                }
                if let c = b.connectAddress { out += "      connect_to: \(q(c))\n" }
                if b.transport != .tls { out += "      transport: \(b.transport.rawValue)\n" }
                if !b.sipEnabled { out += "      status: disabled\n" }
            }
            if let srtp = b.srtpKeyExchangeSetting { out += "    srtp_key_exchange_protocol: \(srtp)\n" }
            if !b.additionalCodecs.isEmpty { out += "    additional_codecs: [\(b.additionalCodecs.joined(separator: ", "))]\n" }
        }
        out += "users:\n"
        for u in c.users {
            switch u.numbers.storage {
            case .range: out += "  - range: \(q(u.numbers.description))\n"
            case .list(let l): out += "  - list: [" + l.map(q).joined(separator: ", ") + "]\n"
            }
            switch u.permission {
            case .none: out += "    permission: none\n"
            case .permanent: out += "    permission: permanent\n"
            case .temporary(let s): out += "    permission: { temporary: \(d(s)) }\n"
            }
            let b = u.behaviour
            if u.addressedByBSUID { out += "    addressing: bsuid\n" }
            if let media = u.mediaImpairment {
                out += "    media: { drop_client_hellos: \(media.dropClientHellos), drop_dtls_before_nomination: \(media.dropDTLSBeforeNomination) }\n"
            }
            let hangUp = b.hangUpAfter.map { ", hang_up_after: [\(d($0.lowerBound)), \(d($0.upperBound))]" } ?? ""
            out += "    behaviour: { answer: \(b.answer), decline: \(b.decline), no_answer: \(b.noAnswer), unreachable: \(b.unreachable), unavailable: \(b.unavailable), no_media: \(b.noMedia), answer_after: [\(d(b.answerAfter.lowerBound)), \(d(b.answerAfter.upperBound))]\(hangUp) }\n"
        }
        let l = c.limits
        out += "limits:\n  connected_bic_per_24h: \(l.connectedBICPer24h)\n  bic_attempts_per_24h: \(l.bicAttemptsPer24h)\n"
        out += "  concurrent_per_number: \(l.concurrentPerNumber)\n"
        out += "  bic_blocked_countries: [\(l.bicBlockedCountries.sorted().joined(separator: ", "))]\n"
        out += "  call_rate_per_number: \(l.callRatePerNumber.map { "\($0)/s" } ?? "none")\n"
        out += "  concurrency_limit_status: \(l.concurrencyLimitStatus)\n  unanswered_streak: { nudge: \(l.streakNudge), revoke: \(l.streakRevoke) }\n"
        out += "auth: { algorithms: [\(c.digestAlgorithms.map(\.rawValue).joined(separator: ", "))], nonce_lifetime: \(c.nonceLifetimeSeconds)s }\n"
        out += "tls: { reject_alpn_sip: \(c.rejectALPNSip) }\n"
        let p = c.protection
        out += "protection:\n  max_connections: \(p.maxConnections)\n  max_connections_per_source: \(p.maxConnectionsPerSource)\n"
        out += "  idle_timeout: \(p.idleTimeoutSeconds.map { d($0) } ?? "none")\n  tls_handshake_timeout: \(d(p.tlsHandshakeTimeoutSeconds))\n"
        out += "  max_message_size: \(p.maxMessageSize)\n"
        out += "  auth_failures: { failures: \(p.authFailures.failures), window: \(d(p.authFailures.window)), lockout: \(d(p.authFailures.lockout)) }\n"
        out += "media: { enabled: \(c.media.enabled), drop_client_hellos: \(c.media.impairment.dropClientHellos), drop_dtls_before_nomination: \(c.media.impairment.dropDTLSBeforeNomination), bic_dtls_setup: \(c.media.bicDTLSSetup)\(c.media.probeSeconds.map { ", probe: \(d($0))" } ?? ""), ipv6_candidate: \(c.media.ipv6Candidate ?? "none"), ports: [\(c.media.ports.map(String.init).joined(separator: ", "))] }\n"
        out += "domain_match: \(c.domainMatch.rawValue)\n"
        func ms(_ t: TimeAmount) -> String { d(Double(t.nanoseconds) / 1e9) }
        out += "timers: { ring_timeout: \(d(c.ringTimeoutSeconds)), media_start_timeout: \(d(c.mediaStartTimeoutSeconds)), media_timeout: \(d(c.mediaTimeoutSeconds)), t1: \(ms(c.timers.t1)), t2: \(ms(c.timers.t2)), t4: \(ms(c.timers.t4)) }\n"
        out += "sip:\n  send_ringing: \(c.sendRinging)\n  record_routes: [" + c.recordRoutes.map(q).joined(separator: ", ") + "]\n"
        out += "  strict_in_dialog_route: \(c.strictInDialogRoute)\n  wasim_headers: \(c.wasimHeaders)\n  sdp_check: \(c.sdpCheck.rawValue)\n"
        out += "  reinvite_ends_call: \(c.reinviteEndsCall)\n"
        out += "  reason_phrases:\n" + MetaReasonPhrases.keys.map { "    \($0.key): \(q(c.reasonPhrases[keyPath: $0.path]))\n" }.joined()
        if let lab = c.labRouteHost { out += "  lab_route_host: \(lab)\n" }
        let h = c.headerNames
        func opt(_ s: String?) -> String { s.map(q) ?? "null" }
        out += "headers:\n  wacid: \(q(h.wacid))\n  call_duration: \(q(h.callDuration))\n  cta_payload: \(q(h.ctaPayload))\n"
        out += "  deeplink_payload: \(q(h.deeplinkPayload))\n  user_id: \(opt(h.userID))\n  user_name: \(opt(h.userName))\n"
        out += "  user_country_code: \(opt(h.userCountryCode))\n  phone_number_id: \(opt(h.phoneNumberID))\n"
        let u = c.uic
        let cert: String
        switch u.clientCertificate {
        case .none: cert = "none"
        case .dynamicHost: cert = "dynamic"
        case .host(let host): cert = host
        }
        out += "uic:\n  client_certificate: \(cert)\n"
        if let ca = u.caFile { out += "  ca_file: \(q(ca))\n" }
        out += "  answer_timeout: \(d(u.answerTimeoutSeconds))\n"
        if !u.calls.isEmpty {
            out += "  calls:\n"
            for p in u.calls {
                let users: String
                switch p.users.storage {
                case .range: users = q(p.users.description)
                case .list(let l): users = "[" + l.map(q).joined(separator: ", ") + "]"
                }
                out += "    - { users: \(users), business: \(q(p.business)), count: \(p.count), rate: \(p.rate), hold: [\(d(p.hold.lowerBound)), \(d(p.hold.upperBound))]"
                if let cta = p.ctaPayload { out += ", cta_payload: \(q(cta))" }
                if let dl = p.deeplinkPayload { out += ", deeplink_payload: \(q(dl))" }
                out += " }\n"
            }
        }
        let tokens = c.graphAPI.effectiveTokens(for: c.businesses).map {
            "{ token: \(q($0.token)), app_id: \(q($0.appID)), permissions: [\($0.permissions.sorted().joined(separator: ", "))] }"
        }
        if c.graphAPI != MockGraphAPIConfiguration() {
            out += "graph_api:\n  requests_per_second: \(Int(c.graphAPI.requestsPerSecond))\n"
            if c.graphAPI.tokens != nil { out += "  tokens:\n" + tokens.map { "    - \($0)\n" }.joined() }
        } else {
            // The default tokens, as a comment: printed, they would stop being derived from the apps.
            out += "# graph_api tokens (the default, one per app):\n" + tokens.map { "#   - \($0)\n" }.joined()
        }
        return out
    }
}
