import Foundation
import MetaGraphAPI
import MetaMock
import NIOCore
import SIPAuth
import SIPCore
import SIPTransport
import Testing

/// The Graph API mock (`wasim mock --graph-api`) with curl as the client: every endpoint and error, and that a
/// change made through it applies to the next SIP call on the same mock.
@Suite("Graph API mock", .serialized)
struct GraphAPITests {
    static let business = "100000000000001"
    static let other = "100000000000002"

    /// Business A starts as Meta's numbers do: no SIP server, SIP disabled; its second app has no
    /// `whatsapp_business_messaging`. Business B is configured. The SDP check is strict, so the key exchange
    /// and the codecs decide offers.
    static let yaml = """
        businesses:
          - number: "+33639980001"
            phone_number_id: "100000000000001"
            apps:
              - { app_id: "100000000000099" }
              - { app_id: "300000000000099", authorized: false }
          - number: "+33639980002"
            phone_number_id: "100000000000002"
            apps: [{ app_id: "200000000000099", sip_password: "pw-b" }]
            sip_server: { hostname: sip.b.example.com }
        users:
          - range: "+15550200000..+15550200099"
          - number: "+15550209000"
            permission: none
          - range: "+15550200100..+15550200199"
            behaviour: { no_answer: 1 }
          - number: "+15550209100"
            permission: { temporary: 7d }
        limits: { connected_bic_per_24h: 2 }
        timers: { ring_timeout: 100ms }
        sip: { sdp_check: strict }
        graph_api:
          tokens:
            - { token: tok-a, app_id: "100000000000099" }
            - { token: tok-unauthorized, app_id: "300000000000099" }
            - { token: tok-b, app_id: "200000000000099" }
            - { token: tok-messaging-only, app_id: "100000000000099", permissions: [whatsapp_business_messaging] }
        """

    /// A mock, its Graph API over HTTPS, curl, and a SIP client over TLS.
    struct Lab {
        let mock: MockHarness
        let graph: GraphAPIServer
        let api: GraphClient
        let sip: TestClient

        static func start(_ edit: (inout MockConfiguration) -> Void = { _ in }) async throws -> Lab {
            var configuration = try MockConfigLoader.parse(GraphAPITests.yaml, file: "graph.yaml")
            edit(&configuration)
            let mock = try await MockHarness.start(configuration: configuration, clock: FixedClock.at())
            let graph = try await GraphAPIServer.start(mock: mock.server, host: "127.0.0.1", port: 0, tls: true, certsDirectory: mock.certs)
            return Lab(mock: mock, graph: graph, api: GraphClient(baseURL: graph.baseURL, caFile: graph.caFile),
                       sip: try await TestClient(tls: TLSClientSettings(caFile: mock.server.caFile)))
        }

        func stop() async {
            await sip.stop()
            await graph.stop()
            await mock.stop()
        }

        /// A BIC INVITE from `from` at `host`, the 407, and the INVITE again with the digest of `password`.
        func call(_ user: String, from: String = "+33639980001", host: String = "sip.example.com", password: String,
                  offer: Offer = .dtls) async throws -> SIPResponse
        {
            let uri = "sip:\(user)@wa.meta.vc;transport=tls"
            var h = SIPHeaders()
            h.add(.from, "<sip:\(from)@\(host)>;tag=\(UInt32.random(in: 1...UInt32.max))")
            h.add(.to, "<\(uri)>")
            h.add(.callID, UUID().uuidString)
            h.add(.cseq, "1 INVITE")
            h.add(.contact, "<sip:\(from)@127.0.0.1;transport=tls>")
            h.add(.contentType, "application/sdp")
            let invite = SIPRequest(method: .invite, uri: try SIPURI(uri), headers: h, body: ByteBuffer(string: offer.sdp))
            let destination = SIPDestination(transport: .tls, host: "127.0.0.1", port: mock.tlsPort, serverName: "wa.meta.vc")
            return try await sip.inviteWithDigest(invite, to: destination, username: String(from.dropFirst()), password: password)
        }

        /// The number's SIP password as the API gives it.
        func password(_ id: String = GraphAPITests.business, token: String = "tok-a") async throws -> String? {
            let reply = try await api.get("\(id)/settings?include_sip_credentials=true", token: token)
            let servers = ((reply.json["calling"] as? [String: Any])?["sip"] as? [String: Any])?["servers"] as? [[String: Any]]
            return servers?.first?["sip_user_password"] as? String
        }
    }

    /// SDP offers of the business: WebRTC-style DTLS, SDES, and plain G.711.
    enum Offer {
        case dtls, sdes, pcmu

        var sdp: String {
            let head = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            switch self {
            case .dtls:
                return head + "m=audio 4000 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n"
                    + "a=fingerprint:sha-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89\r\na=setup:actpass\r\n"
            case .sdes:
                return head + "m=audio 4000 RTP/SAVP 111\r\na=rtpmap:111 opus/48000/2\r\n"
                    + "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n"
            case .pcmu:
                return head + "m=audio 4000 RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
                    + "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n"
            }
        }
    }

    static let enable = """
        {"calling": {"status": "ENABLED", "sip": {"status": "ENABLED", "servers": [{"hostname": "sip.example.com", "port": 5061,
          "request_uri_user_params": {"tgrp": "wacall", "trunk-context": "byoc.example.com"}}]}}}
        """

    // MARK: Tokens and access

    @Test func tokensAndAccess() async throws {
        let lab = try await Lab.start()
        let missing = try await lab.api.get("\(Self.business)/settings", token: nil)
        let unknown = try await lab.api.get("\(Self.business)/settings", token: "nope")
        let inQuery = try await lab.api.request("GET", "\(Self.business)/settings", token: "tok-a", tokenInQuery: true)
        let unversioned = try await lab.api.request("GET", "\(Self.business)/settings", token: "tok-a", versioned: false)
        let notYours = try await lab.api.get("\(Self.other)/settings", token: "tok-a")
        let noSuchNumber = try await lab.api.get("999/settings", token: "tok-a")
        let noManagement = try await lab.api.get("\(Self.business)/settings", token: "tok-messaging-only")
        let noMessaging = try await lab.api.get("\(Self.business)/call_permissions?user_wa_id=15550200001", token: "tok-unauthorized")
        let badPath = try await lab.api.get("\(Self.business)/nothing_here", token: "tok-a")
        let badVersion = try await lab.api.request("GET", "vX/\(Self.business)/settings", token: "tok-a", versioned: false)
        await lab.stop()

        for reply in [missing, unknown] {
            #expect(reply.status == 401 && reply.code == 190 && reply.error?["type"] as? String == "OAuthException", "\(reply)")
            #expect((reply.error?["fbtrace_id"] as? String)?.isEmpty == false, "\(reply)")
        }
        #expect(inQuery.status == 200 && unversioned.status == 200, "\(inQuery) \(unversioned)")
        for reply in [notYours, noSuchNumber] {
            #expect(reply.status == 400 && reply.code == 100 && reply.error?["error_subcode"] as? Int == 33, "\(reply)")
        }
        #expect(noManagement.status == 403 && noManagement.code == 200, "\(noManagement)")
        #expect(noMessaging.status == 403 && noMessaging.code == 10, "\(noMessaging)")
        #expect(badPath.status == 400 && badPath.code == 2500 && badVersion.code == 2500, "\(badPath) \(badVersion)")
    }

    /// `graph_api.requests_per_second`: past it, error 613. The mock's clock stands still, so the bucket
    /// (one second's burst: 2) never refills, however slowly the requests come.
    @Test func overTheRequestRateIs613() async throws {
        let lab = try await Lab.start { $0.graphAPI.requestsPerSecond = 2 }
        var codes: [Int?] = []
        for _ in 0..<4 { codes.append(try await lab.api.get("\(Self.business)/settings", token: "tok-a").code) }
        let otherToken = try await lab.api.get("\(Self.other)/settings", token: "tok-b")
        await lab.stop()
        #expect(codes == [nil, nil, 613, 613], "\(codes)")
        #expect(otherToken.status == 200, "the rate is per token: \(otherToken)")
    }

    // MARK: Settings

    /// Meta's documented validation: one server per app, the hostname and parameter limits, at least one
    /// server while ENABLED, enum values, unknown fields; a refused update changes nothing.
    @Test func settingsValidation() async throws {
        let lab = try await Lab.start()
        let long = String(repeating: "x", count: 129)
        let cases: [(String, String)] = [
            (#"{"calling": {"sip": {"status": "ENABLED"}}}"#, "At least 1 SIP server of any app must exist when SIP status is ENABLED"),
            (#"{"calling": {"sip": {"servers": [{"hostname": "a.example.com"}, {"hostname": "b.example.com"}]}}}"#, "one SIP server per phone number"),
            (#"{"calling": {"sip": {"servers": [{"hostname": "203.0.113.7"}]}}}"#, "must be a DNS name"),
            ("{\"calling\": {\"sip\": {\"servers\": [{\"hostname\": \"\(String(repeating: "a", count: 250)).com\"}]}}}", "at most 253 characters"),
            ("{\"calling\": {\"sip\": {\"servers\": [{\"hostname\": \"s.example.com\", \"request_uri_user_params\": {\"tgrp\": \"\(long)\"}}]}}}",
             "at most 128 characters"),
            (#"{"calling": {"sip": {"servers": [{"hostname": "s.example.com", "port": 70000}]}}}"#, "from 1 to 65535"),
            (#"{"calling": {"sip": {"servers": [{"port": 5061}]}}}"#, "[hostname] is required"),
            (#"{"calling": {"srtp_key_exchange_protocol": "ZRTP"}}"#, "must be one of {DTLS, SDES}"),
            (#"{"calling": {"audio": {"additional_codecs": ["G729"]}}}"#, "must be one of {PCMA, PCMU}"),
            (#"{"calling": {"sip": {"status": "ON"}}}"#, "calling[sip][status] must be one of {ENABLED, DISABLED}"),
            (#"{"calling": {"colour": "blue"}}"#, "calling[colour] is not a valid parameter"),
            ("not json", "not a JSON object"),
        ]
        var replies: [GraphClient.Reply] = []
        for (json, _) in cases { replies.append(try await lab.api.post("\(Self.business)/settings", token: "tok-a", json)) }
        let after = try await lab.api.get("\(Self.business)/settings", token: "tok-a")
        await lab.stop()
        for ((json, expected), reply) in zip(cases, replies) {
            #expect(reply.status == 400 && reply.code == 100, "\(json): \(reply)")
            #expect(reply.details?.contains(expected) == true, "\(json): \(reply)")
        }
        let sip = (after.json["calling"] as? [String: Any])?["sip"] as? [String: Any]
        #expect(sip?["status"] as? String == "DISABLED" && (sip?["servers"] as? [Any])?.isEmpty == true, "\(after)")
    }

    /// GET shows every app's server, the password only with `include_sip_credentials=true`, and
    /// `srtp_key_exchange_protocol` only once set; disabling keeps the servers; `servers: []` deletes only the
    /// calling app's server.
    @Test func settingsReadBack() async throws {
        let lab = try await Lab.start()
        let enabled = try await lab.api.post("\(Self.business)/settings", token: "tok-a", Self.enable)
        let plain = try await lab.api.get("\(Self.business)/settings", token: "tok-a")
        let password = try await lab.password()
        _ = try await lab.api.post("\(Self.business)/settings", token: "tok-a", #"{"calling": {"srtp_key_exchange_protocol": "SDES", "audio": {"additional_codecs": ["PCMU"]}, "call_icon_visibility": "DISABLE_ALL"}}"#)
        _ = try await lab.api.post("\(Self.business)/settings", token: "tok-a", #"{"calling": {"sip": {"status": "DISABLED"}}}"#)
        let disabled = try await lab.api.get("\(Self.business)/settings", token: "tok-a")
        let deleted = try await lab.api.post("\(Self.business)/settings", token: "tok-a", #"{"calling": {"sip": {"servers": []}}}"#)
        let empty = try await lab.api.get("\(Self.business)/settings", token: "tok-a")
        await lab.stop()

        #expect(enabled.status == 200 && enabled.json["success"] as? Bool == true, "\(enabled)")
        let calling = plain.json["calling"] as? [String: Any]
        let server = ((calling?["sip"] as? [String: Any])?["servers"] as? [[String: Any]])?.first
        #expect(calling?["status"] as? String == "ENABLED" && calling?["srtp_key_exchange_protocol"] == nil, "\(plain)")
        #expect(server?["app_id"] as? Int == 100000000000099 && server?["hostname"] as? String == "sip.example.com", "\(plain)")
        #expect((server?["request_uri_user_params"] as? [String: String])?["tgrp"] == "wacall" && server?["sip_user_password"] == nil, "\(plain)")
        #expect(password?.count == 32, "\(String(describing: password))")
        let later = disabled.json["calling"] as? [String: Any]
        #expect(later?["srtp_key_exchange_protocol"] as? String == "SDES" && later?["call_icon_visibility"] as? String == "DISABLE_ALL", "\(disabled)")
        #expect((later?["audio"] as? [String: Any])?["additional_codecs"] as? [String] == ["PCMU"], "\(disabled)")
        let sip = later?["sip"] as? [String: Any]
        #expect(sip?["status"] as? String == "DISABLED" && (sip?["servers"] as? [Any])?.count == 1, "disabling keeps the server: \(disabled)")
        #expect(deleted.status == 200, "\(deleted)")
        let servers = ((empty.json["calling"] as? [String: Any])?["sip"] as? [String: Any])?["servers"] as? [Any]
        #expect(servers?.isEmpty == true, "\(empty)")
    }

    // MARK: Calling endpoints

    /// `call_permissions` from the SIP state: a permanent, a temporary (with its expiry) and a missing
    /// permission; four unanswered BICs revoke a permission (the streak), and the answer says so.
    @Test func callPermissionsFollowTheSIPState() async throws {
        let lab = try await Lab.start()
        _ = try await lab.api.post("\(Self.business)/settings", token: "tok-a", Self.enable)
        let password = try #require(try await lab.password())
        let permanent = try await lab.api.get("\(Self.business)/call_permissions?user_wa_id=15550200001", token: "tok-a")
        let temporary = try await lab.api.get("\(Self.business)/call_permissions?user_wa_id=15550209100", token: "tok-a")
        let none = try await lab.api.get("\(Self.business)/call_permissions?user_wa_id=15550209000", token: "tok-a")
        let missing = try await lab.api.get("\(Self.business)/call_permissions", token: "tok-a")
        var statuses: [Int] = []
        for _ in 0..<4 { statuses.append(try await lab.call("+15550200100", password: password).statusCode) }
        let revoked = try await lab.api.get("\(Self.business)/call_permissions?user_wa_id=15550200100", token: "tok-a")
        let refused = try await lab.call("+15550200100", password: password)
        await lab.stop()

        func permission(_ r: GraphClient.Reply) -> [String: Any]? { r.json["permission"] as? [String: Any] }
        func action(_ r: GraphClient.Reply, _ name: String) -> [String: Any]? {
            (r.json["actions"] as? [[String: Any]])?.first { $0["action_name"] as? String == name }
        }
        #expect(permission(permanent)?["status"] as? String == "permanent", "\(permanent)")
        #expect(action(permanent, "start_call")?["can_perform_action"] as? Bool == true, "\(permanent)")
        let limit = (action(permanent, "start_call")?["limits"] as? [[String: Any]])?.first
        #expect(limit?["max_allowed"] as? Int == 2 && limit?["current_usage"] as? Int == 0 && limit?["time_period"] as? String == "PT24H", "\(permanent)")
        #expect(permission(temporary)?["status"] as? String == "temporary", "\(temporary)")
        let expiry = try #require(permission(temporary)?["expiration_time"] as? Int, "\(temporary)")
        #expect(Double(expiry) == FixedClock.epoch + 7 * 86_400, "\(temporary)")
        #expect(permission(none)?["status"] as? String == "no_permission" && action(none, "start_call")?["can_perform_action"] as? Bool == false, "\(none)")
        #expect(missing.code == 100, "\(missing)")
        #expect(statuses == [480, 480, 480, 480], "\(statuses)")
        #expect(permission(revoked)?["status"] as? String == "no_permission", "after four unanswered calls: \(revoked)")
        #expect(refused.statusCode == 403 && refused.reasonPhrase == "No Approved Call Permission Found", "\(refused.statusCode) \(refused.reasonPhrase)")
    }

    /// The connected-call limit shows in `start_call` with the time the oldest call leaves the 24 h window.
    @Test func theConnectedCallLimitShowsItsExpiry() async throws {
        let lab = try await Lab.start()
        let pair = MockCallState.Pair(business: "+33639980001", user: "+15550200007")
        let now = lab.mock.server.clock.wallNow()
        lab.mock.server.state.connected(pair, now: now - 3_600)
        lab.mock.server.state.connected(pair, now: now - 60)
        let reply = try await lab.api.get("\(Self.business)/call_permissions?user_wa_id=15550200007", token: "tok-a")
        await lab.stop()
        let start = (reply.json["actions"] as? [[String: Any]])?.first { $0["action_name"] as? String == "start_call" }
        let limit = (start?["limits"] as? [[String: Any]])?.first
        #expect(start?["can_perform_action"] as? Bool == false && limit?["current_usage"] as? Int == 2, "\(reply)")
        let until = try #require(limit?["limit_expiration_time"] as? Int, "\(reply)")
        #expect(Double(until) == now - 3_600 + 86_400, "\(reply)")
    }

    /// A business number in a country without business-initiated calls (the US here) gets 138013 from
    /// `/calls`, as its BICs get the SIP 403.
    @Test func callsFromABlockedCountryAre138013() async throws {
        let lab = try await Lab.start { c in
            var us = MockConfiguration.Business(number: "+12125550100", phoneNumberID: "100000000000003",
                                                apps: [.init(appID: "100000000000099", sipPassword: "pw-us")], sipServerHostname: "sip.example.com")
            us.sipEnabled = false
            c.businesses.append(us)
        }
        let reply = try await lab.api.post("100000000000003/calls", token: "tok-a", #"{"messaging_product": "whatsapp", "to": "15550200001", "action": "connect"}"#)
        await lab.stop()
        #expect(reply.code == 138013 && reply.details?.contains("in US") == true, "\(reply)")
    }

    // MARK: End to end

    /// The acceptance run: provision through the API and a BIC connects; rotate the password and the same
    /// call gets 403 until the new one is used; switch to SDES and the next UIC offer carries `a=crypto`
    /// (and a DTLS offer is refused); allow PCMU and a G.711 offer connects; change the hostname and the From
    /// domain rule follows; disable SIP and `/calls` no longer returns 131055 and no UIC is placed.
    @Test(.enabled(if: Peers.available("sipp")))
    func provisionRotateSwitchAndDisable() async throws {
        let work = try TemporaryDirectory()
        defer { work.remove() }
        let (uas, uasLog, uasPort) = try await UICInteropTests.startSIPpUAS("uic-uas-sdes", calls: 1, work: work, extra: ["-trace_msg"])
        let lab = try await Lab.start { c in
            c.businesses[0].connectAddress = "127.0.0.1:\(uasPort)"
            c.businesses[0].transport = .tcp
            c.uic.answerTimeoutSeconds = 10
        }
        let api = lab.api, id = Self.business

        // Before: SIP is disabled and the number has no server.
        let before = try await lab.call("+15550200001", password: "anything")
        // 1. Provision: a BIC with the password from the API connects.
        let provisioned = try await api.post("\(id)/settings", token: "tok-a", Self.enable)
        let callsWhileEnabled = try await api.post("\(id)/calls", token: "tok-a", #"{"messaging_product": "whatsapp", "to": "15550200001", "action": "connect"}"#)
        let p1 = try #require(try await lab.password())
        let first = try await lab.call("+15550200001", password: p1)
        // 2. Rotate as Meta documents: disable and delete, enable again, read the new password.
        _ = try await api.post("\(id)/settings", token: "tok-a", #"{"calling": {"status": "DISABLED", "sip": {"status": "DISABLED", "servers": []}}}"#)
        _ = try await api.post("\(id)/settings", token: "tok-a", Self.enable)
        let p2 = try #require(try await lab.password())
        let oldPassword = try await lab.call("+15550200002", password: p1)
        let newPassword = try await lab.call("+15550200003", password: p2)
        // 3. SDES: the UIC offer carries a=crypto, and a DTLS offer is refused by the strict check.
        let noSRTPField = try await api.get("\(id)/settings", token: "tok-a")
        _ = try await api.post("\(id)/settings", token: "tok-a", #"{"calling": {"srtp_key_exchange_protocol": "SDES"}}"#)
        let dtlsAfterSDES = try await lab.call("+15550200004", password: p2, offer: .dtls)
        let sdes = try await lab.call("+15550200005", password: p2, offer: .sdes)
        let uic = await lab.mock.server.placeUserCall(UICCallRequest(user: "+15550200050", business: "+33639980001", hold: 0.3))
        // Codecs: a G.711 offer is refused until PCMU is allowed, then answered with PCMU.
        let pcmuBefore = try await lab.call("+15550200006", password: p2, offer: .pcmu)
        _ = try await api.post("\(id)/settings", token: "tok-a", #"{"calling": {"audio": {"additional_codecs": ["PCMU"]}}}"#)
        let pcmuAfter = try await lab.call("+15550200008", password: p2, offer: .pcmu)
        // A new hostname moves the From domain rule.
        _ = try await api.post("\(id)/settings", token: "tok-a", #"{"calling": {"sip": {"servers": [{"hostname": "sbc.new-example.net"}]}}}"#)
        let oldHost = try await lab.call("+15550200009", password: p2, offer: .sdes)
        let newHost = try await lab.call("+15550200010", host: "edge.sbc.new-example.net", password: p2, offer: .sdes)
        // 4. Disable SIP: /calls is no longer 131055, no UIC is placed, a BIC matches no server.
        _ = try await api.post("\(id)/settings", token: "tok-a", #"{"calling": {"sip": {"status": "DISABLED"}}}"#)
        let callsNoPermission = try await api.post("\(id)/calls", token: "tok-a", #"{"messaging_product": "whatsapp", "to": "15550209000", "action": "connect"}"#)
        let callsPermitted = try await api.post("\(id)/calls", token: "tok-a", #"{"messaging_product": "whatsapp", "to": "15550200020", "action": "connect"}"#)
        let gated = await lab.mock.server.placeUserCall(UICCallRequest(user: "+15550200051", business: "+33639980001", hold: 0.3))
        let disabledBIC = try await lab.call("+15550200011", host: "sbc.new-example.net", password: p2, offer: .sdes)
        await lab.stop()
        let uasOutput = await UICInteropTests.finish(uas, log: uasLog, work: work)

        #expect(before.statusCode == 403 && before.reasonPhrase.hasPrefix("SIP server sip.example.com from INVITE does not match"), "\(before.statusCode) \(before.reasonPhrase)")
        #expect(provisioned.status == 200, "\(provisioned)")
        #expect(callsWhileEnabled.status == 400 && callsWhileEnabled.code == 131055, "\(callsWhileEnabled)")
        #expect(first.statusCode == 200, "provisioned: \(first.statusCode) \(first.reasonPhrase)")
        #expect(p1 != p2)
        #expect(oldPassword.statusCode == 403 && oldPassword.reasonPhrase == "Forbidden", "the old password: \(oldPassword.statusCode)")
        #expect(newPassword.statusCode == 200, "the new password: \(newPassword.statusCode) \(newPassword.reasonPhrase)")
        #expect((noSRTPField.json["calling"] as? [String: Any])?["srtp_key_exchange_protocol"] == nil, "\(noSRTPField)")
        #expect(dtlsAfterSDES.statusCode == 403, "a DTLS offer on an SDES number: \(dtlsAfterSDES.statusCode)")
        #expect(sdes.statusCode == 200 && sdes.body.getString(at: sdes.body.readerIndex, length: sdes.body.readableBytes)?.contains("a=crypto:") == true,
                "\(sdes.statusCode)")
        #expect(uic.outcome.connected, "\(uic.outcome)")
        let trace = (try? FileManager.default.contentsOfDirectory(atPath: work.path))?.filter { $0.hasSuffix("_messages.log") }
            .compactMap { try? String(contentsOfFile: work.path + "/" + $0, encoding: .utf8) }.joined() ?? ""
        #expect(trace.contains("m=audio") && trace.contains("RTP/SAVP 111") && trace.contains("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"),
                "the UIC offer after the switch to SDES: \(trace.prefix(3000))")
        #expect(!trace.contains("a=fingerprint"), "an SDES offer has no fingerprint")
        #expect(pcmuBefore.statusCode == 403 && pcmuAfter.statusCode == 200, "\(pcmuBefore.statusCode) \(pcmuAfter.statusCode)")
        let pcmuAnswer = pcmuAfter.body.getString(at: pcmuAfter.body.readerIndex, length: pcmuAfter.body.readableBytes) ?? ""
        #expect(pcmuAnswer.contains("a=rtpmap:0 PCMU/8000") && !pcmuAnswer.contains("opus"), "\(pcmuAnswer)")
        #expect(oldHost.statusCode == 403 && newHost.statusCode == 200, "\(oldHost.statusCode) \(newHost.statusCode)")
        #expect(callsNoPermission.code == 138006, "\(callsNoPermission)")
        #expect(callsPermitted.status == 501 && callsPermitted.code != 131055, "\(callsPermitted)")
        #expect(gated.outcome.notPlaced && gated.outcome.detail?.hasPrefix("sip-disabled") == true, "\(gated.outcome)")
        #expect(disabledBIC.statusCode == 403, "\(disabledBIC.statusCode)")
        #expect(uas.terminationStatus == 0, "\(uasOutput.suffix(2000))")
    }

    // MARK: The command line

    /// `wasim mock --graph-api HOST:PORT` as users start it: the API listens with the mock's CA, the default
    /// token of the default app reads the password the mock printed; a port in use is named, exit 2.
    @Test(.enabled(if: CLITests.available))
    func mockCommandServesTheAPI() async throws {
        let work = try TemporaryDirectory()
        defer { work.remove() }
        let port = try FreePort.tcp(), tls = try FreePort.tcp()
        let (process, log) = try ExternalProcess.start(CLITests.binary, [
            "mock", "--certs", work.path, "--tls-port", "\(tls)", "--no-udp", "--no-tcp", "--graph-api", "127.0.0.1:\(port)",
        ])
        defer { ExternalProcess.stop(process) }
        let up = await eventually(timeout: 60) { tcpPortIsListening(port) && tcpPortIsListening(tls) }
        let output = { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
        #expect(up, "\(output())")
        let api = GraphClient(baseURL: "https://127.0.0.1:\(port)", caFile: work.path + "/ca.pem")
        let reply = try await api.get("100000000000001/settings?include_sip_credentials=true", token: "wasim-token-100000000000099")
        #expect(reply.status == 200 && reply.body.contains("\"sip_user_password\":\"wasim-default-sip-password\""), "\(reply)")
        #expect(output().contains("graph api: https://127.0.0.1:\(port)/v23.0/<PHONE_NUMBER_ID>/settings"), "\(output())")
        #expect(output().contains("graph api token for app 100000000000099: wasim-token-100000000000099"), "\(output())")

        let clash = try await ExternalProcess.run(CLITests.binary, [
            "mock", "--certs", work.path, "--tls-port", "0", "--no-udp", "--no-tcp", "--graph-api", "127.0.0.1:\(port)",
        ], timeout: 60)
        #expect(clash.status == 2 && clash.output.contains("cannot listen for the Graph API (HTTP) on 127.0.0.1:\(port): address already in use"),
                "\(clash.status) \(clash.output)")
    }
}
