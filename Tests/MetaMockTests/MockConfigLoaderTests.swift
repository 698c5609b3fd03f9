import Foundation
import MetaMock
import SIPAuth
import Testing
import WasimYAML

/// The mock configuration file: defaults, every section, errors located by path, and a round trip through
/// `--print-config`.
@Suite("Mock configuration file")
struct MockConfigLoaderTests {
    static let full = """
        domain: wa.meta.vc
        seed: 9
        businesses:
          - number: "+33639980002"
            phone_number_id: "222"
            apps:
              - { app_id: "a1", authorized: false, sip_password: "p1" }
              - { app_id: "a2", sip_password: "p2" }
            sip_server:
              hostname: sbc.example.org
              port: 5062
              app_id: a2
              request_uri_user_params: { tgrp: wacall, trunk-context: byoc.example.org }
              connect_to: 127.0.0.1:5071
              transport: tcp
              status: disabled
            srtp_key_exchange_protocol: SDES
        users:
          - range: "+15550300000..+15550300099"
            permission: { temporary: 7d }
            behaviour: { answer: 0.8, decline: 0.1, no_answer: 0.1, answer_after: [1s, 3s], hang_up_after: 20s }
          - list: ["+15550400000"]
            permission: none
        limits:
          connected_bic_per_24h: 100
          call_rate_per_number: 12/s
          concurrent_per_number: 50
          unanswered_streak: { nudge: 5, revoke: 10 }
        auth: { algorithms: [SHA-256, MD5], nonce_lifetime: 60s }
        domain_match: exact
        timers: { ring_timeout: 45s, t1: 250ms, t2: 2s }
        sip: { send_ringing: true, lab_route_host: 127.0.0.1, strict_in_dialog_route: false }
        headers: { user_country_code: x-wa-meta-country-code, user_name: null, phone_number_id: x-wa-meta-phone-number-id }
        uic:
          client_certificate: client.sip.fbclientcerts.com
          answer_timeout: 30s
          calls:
            - { users: "+15550300000..+15550300009", business: "+33639980002", count: 20, rate: 5/s, hold: [2s, 4s], cta_payload: promo-7 }
        protection:
          max_connections: 500
          max_connections_per_source: 20
          idle_timeout: 90s
          tls_handshake_timeout: 5s
          max_message_size: 16384
          auth_failures: { failures: 3, window: 30s, lockout: 10m }
        """

    @Test func everySection() throws {
        let c = try MockConfigLoader.parse(Self.full, file: "m.yaml")
        let b = c.businesses[0]
        #expect(b.number == "+33639980002" && b.phoneNumberID == "222" && b.sipServerPort == 5062)
        #expect(b.sipPassword == "p2" && b.sipServerApp?.authorized == true && b.srtpKeyExchange == "SDES")
        #expect(b.requestURIUserParams == ["tgrp": "wacall", "trunk-context": "byoc.example.org"])
        #expect(c.users.count == 2 && c.users[0].permission == .temporary(expiresAfter: 7 * 86400))
        #expect(c.users[0].behaviour.answerAfter == 1...3 && c.users[0].behaviour.decline == 0.1)
        #expect(c.users[1].permission == MockConfiguration.Permission.none && c.userGroup("+15550400000") != nil)
        #expect(c.limits.connectedBICPer24h == 100 && c.limits.streakRevoke == 10 && c.limits.callRatePerNumber == 12)
        #expect(c.digestAlgorithms == [.sha256, .md5] && c.nonceLifetimeSeconds == 60)
        #expect(c.domainMatch == .exact && c.ringTimeoutSeconds == 45 && c.sendRinging && c.labRouteHost == "127.0.0.1")
        #expect(b.connectAddress == "127.0.0.1:5071" && b.transport == .tcp && c.users[0].behaviour.hangUpAfter == 20...20)
        #expect(!b.sipEnabled && MockConfiguration.default.businesses[0].sipEnabled)
        #expect(c.timers.t1 == .milliseconds(250) && c.timers.t2 == .seconds(2) && !c.strictInDialogRoute)
        #expect(c.headerNames.userCountryCode == "x-wa-meta-country-code" && c.headerNames.userName == nil)
        #expect(c.headerNames.phoneNumberID == "x-wa-meta-phone-number-id" && c.headerNames.userID == "x-wa-meta-user-id")
        #expect(c.uic.clientCertificate == .host("client.sip.fbclientcerts.com") && c.uic.answerTimeoutSeconds == 30)
        let p = c.protection
        #expect(p.maxConnections == 500 && p.maxConnectionsPerSource == 20 && p.idleTimeoutSeconds == 90 && p.tlsHandshakeTimeoutSeconds == 5)
        #expect(p.maxMessageSize == 16384 && p.authFailures == DigestThrottlePolicy(failures: 3, window: 30, lockout: 600))
        let plan = try #require(c.uic.calls.first)
        #expect(plan.count == 20 && plan.rate == 5 && plan.hold == 2...4 && plan.ctaPayload == "promo-7" && plan.users.count == 10)
    }

    @Test func uicPlanMustNameAKnownBusiness() throws {
        do {
            _ = try MockConfigLoader.parse("uic:\n  calls:\n    - { users: \"+15550300000\", business: \"+19990000000\" }\n", file: "m.yaml")
            Issue.record("accepted an unknown business")
        } catch let e as ConfigFileError {
            #expect(e.path == "uic.calls[0]" && e.message.contains("+19990000000"))
        }
    }

    @Test func exampleFilesLoad() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for name in ["Scenarios/mocks/users.yaml", "Scenarios/mocks/example.yaml", "Scenarios/mocks/unprovisioned.yaml"] {
            _ = try MockConfigLoader.load(path: root.appendingPathComponent(name).path)
        }
    }

    @Test func printedConfigReadsBackTheSame() throws {
        let c = try MockConfigLoader.parse(Self.full, file: "m.yaml")
        let again = try MockConfigLoader.parse(MockConfigWriter.yaml(c), file: "printed.yaml")
        #expect(again == c)
        let defaults = try MockConfigLoader.parse(MockConfigWriter.yaml(.default), file: "printed.yaml")
        #expect(defaults == .default)
    }

    @Test func errorsNameThePath() throws {
        func error(_ yaml: String) -> ConfigFileError? {
            do { _ = try MockConfigLoader.parse(yaml, file: "m.yaml"); return nil } catch let e as ConfigFileError { return e } catch { return nil }
        }
        let typo = try #require(error("limits:\n  conected_bic_per_24h: 5\n"))
        #expect(typo.path == "limits.conected_bic_per_24h" && typo.line == 2 && typo.message.contains("did you mean 'connected_bic_per_24h'"))
        let perm = try #require(error("users:\n  - range: \"+15550300000..+15550300009\"\n    permission: sometimes\n"))
        #expect(perm.path == "users[0].permission" && perm.line == 3)
        let alg = try #require(error("auth: { algorithms: [SHA-1] }\n"))
        #expect(alg.path == "auth.algorithms[0]")
        let app = try #require(error("""
            businesses:
              - number: "+33639980002"
                phone_number_id: "2"
                apps: [{ app_id: a1, sip_password: p }]
                sip_server: { hostname: h, app_id: nope }
            """))
        #expect(app.path == "businesses[0].sip_server.app_id")
        // Protection values have ranges; `idle_timeout: none` turns the timeout off.
        let zero = try #require(error("protection:\n  max_connections: 0\n"))
        #expect(zero.path == "protection.max_connections" && zero.line == 2 && zero.message.contains("out of range 1...1000000"))
        let idle = try #require(error("protection: { idle_timeout: 0s }\n"))
        #expect(idle.path == "protection.idle_timeout" && idle.message.contains("above 0"))
        let size = try #require(error("protection: { max_message_size: 100 }\n"))
        #expect(size.path == "protection.max_message_size")
        let window = try #require(error("protection: { auth_failures: { window: 0s } }\n"))
        #expect(window.path == "protection.auth_failures.window")
        #expect(try MockConfigLoader.parse("protection: { idle_timeout: none }\n", file: "m.yaml").protection.idleTimeoutSeconds == nil)
    }

    /// Every error of the file at once, in file order (only the first was reported).
    @Test func everyErrorIsReported() {
        do {
            _ = try MockConfigLoader.parse("""
                limits: { connected_bic_per_24h: five, concurrent_per_number: -3 }
                auth: { nonce_lifetime: soon }
                protection: { max_connections: 0 }
                bogus: 1
                """, file: "m.yaml")
            Issue.record("accepted")
        } catch let error as ConfigFileError {
            #expect(([error] + error.further).map(\.path) == ["limits.connected_bic_per_24h", "limits.concurrent_per_number", "auth.nonce_lifetime",
                                                               "protection.max_connections", "bogus"], "\(error)")
            #expect(error.description.split(separator: "\n").count == 5 && error.description.hasPrefix("m.yaml:1:"))
        } catch {
            Issue.record("\(error)")
        }
    }

    /// A value of the wrong type names its path and both types (the probe got "a business needs number, ...").
    @Test func wrongTypesAreNamed() {
        for (yaml, expected) in [
            ("businesses:\n  - number: \"+33639980001\"\n    phone_number_id: \"1\"\n    apps: x\n    sip_server: { hostname: h }\n",
             "m.yaml:4:11: businesses[0].apps: expected a list, found a scalar"),
            ("businesses:\n  - number: [\"+1\"]\n    phone_number_id: \"1\"\n    apps: []\n    sip_server: { hostname: h }\n",
             "m.yaml:2:13: businesses[0].number: expected a string, found a list"),
            ("businesses:\n  - \"+33639980001\"\n", "m.yaml:2:5: businesses[0]: expected a mapping, found a scalar"),
        ] {
            do {
                _ = try MockConfigLoader.parse(yaml, file: "m.yaml")
                Issue.record("accepted \(yaml)")
            } catch let error as ConfigFileError {
                #expect(error.description.hasPrefix(expected), "\(error)")
            } catch {
                Issue.record("\(error)")
            }
        }
    }

    /// `sip_server` may be left out: the number then has no SIP server yet (to be configured through the Graph API) and SIP is
    /// disabled, as Meta's default; an app without `sip_password` gets one generated with its server.
    @Test func aBusinessWithoutSIPServerStartsDisabled() throws {
        let c = try MockConfigLoader.parse("""
            businesses:
              - number: "+33639980001"
                phone_number_id: "1"
                apps: [{ app_id: "9" }]
              - number: "+33639980002"
                phone_number_id: "2"
                apps: [{ app_id: "8" }]
                sip_server: { hostname: sip.example.com }
            """, file: "m.yaml")
        #expect(c.businesses[0].servers.isEmpty && !c.businesses[0].sipEnabled && !c.businesses[0].routesSIP)
        #expect(c.businesses[0].apps[0].sipPassword.isEmpty)
        #expect(c.businesses[1].sipPassword.count == 32 && c.businesses[1].routesSIP)
        #expect(c.businesses[1].srtpKeyExchangeSetting == nil && c.businesses[1].srtpKeyExchange == "DTLS")
        // The written configuration reads back the same.
        #expect(try MockConfigLoader.parse(MockConfigWriter.yaml(c), file: "w.yaml").businesses == c.businesses)
    }

    /// A business missing keys says which ones (it listed all four, whatever was wrong).
    @Test func missingBusinessKeysAreNamed() {
        do {
            _ = try MockConfigLoader.parse("businesses:\n  - number: \"+33639980001\"\n    phone_number_id: \"1\"\n", file: "m.yaml")
            Issue.record("accepted")
        } catch let error as ConfigFileError {
            #expect(error.description == "m.yaml:2:5: businesses[0]: a business needs number, phone_number_id and apps; missing: apps")
        } catch {
            Issue.record("\(error)")
        }
    }
}
