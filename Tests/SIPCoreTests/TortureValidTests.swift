import NIOCore
import SIPCore
import Testing

/// RFC 4475 §3.1.1 and §3.3: messages that are valid and must parse to the right fields. Each case is our
/// own message exercising the torture its RFC counterpart names.
@Suite("RFC 4475 valid messages")
struct TortureValidTests {
    @Test func wsinv() throws {
        let r = try #require(try TortureFixtures.parse("valid", "wsinv").request)
        #expect(r.method == .invite)
        #expect(r.uri.user == "vivekg" && r.uri.host == "chair-dnrc.example.com" && r.uri.parameters.contains("unknownparam"))
        let to = try r.to()
        #expect(to.uri.user == "vivekg" && to.tag == "1918181833n" && !to.angleBrackets)
        let from = try r.from()
        #expect(from.unquotedDisplayName == "J Rosenberg \\\"")
        #expect(from.tag == "98asjd8")
        #expect(r.headers[.maxForwards] == "0068")
        #expect(try r.cseq() == SIPCSeq(9, .invite))
        let vias = try r.vias()
        #expect(vias.count == 3)
        #expect(vias[0].transport == "UDP" && vias[0].host == "192.0.2.2" && vias[0].branch == "390skdjuw")
        #expect(vias[1].transport == "TCP" && vias[1].host == "spindle.example.com" && vias[1].branch == "z9hG4bK9ikj8")
        #expect(vias[2].host == "192.168.255.111" && vias[2].branch == "z9hG4bK30239")
        #expect(r.headers[.subject] == "")
        #expect(r.headers["NewFangledHeader"] == "newfangled value continued newfangled value")
        #expect(r.headers["UnknownHeaderWithUnusualValue"] == ";;,,;;,;")
        let route = try r.routes()
        #expect(route.count == 1 && route[0].uri.parameters.contains("lr") && route[0].uri.parameters.value("unknownwith") == "value")
        let contact = try #require(try r.contacts().first)
        #expect(contact.unquotedDisplayName == "Quoted string \"\"")
        #expect(contact.parameters.value("newparam") == "newvalue" && contact.parameters.contains("secondparam"))
        #expect(contact.parameters.value("q") == "0.33")
        // Content-Length (with spaces before its colon) gives the exact body.
        #expect(r.body.readableBytes == Int(r.headers[.contentLength]!)! && r.body.readableBytes > 100)
        #expect(r.headers[.contentType] == "application/sdp")
    }

    @Test func intmeth() throws {
        let r = try #require(try TortureFixtures.parse("valid", "intmeth").request)
        #expect(r.method.rawValue == "!interesting-Method0123456789_*+`.%indeed'~")
        #expect(r.uri.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
        #expect(r.uri.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
        #expect(r.uri.host == "example.com")
        #expect(try r.topVia().branch == "z9hG4bK-.!%66*_+`'~")
        let from = try r.from()
        #expect(from.displayName == "token1~` token2'+_ token3*%!.-")
        #expect(from.tag == "_token~1'+`*%!-.")
        #expect(from.parameters.value("fromParam''~+*_!.-%")?.hasPrefix("\"") == true)
        #expect(r.callID == "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{")
        #expect(try r.cseq().sequence == 139122385)
        #expect(r.headers["extensionHeader-!.%*+_`'~"] != nil)
    }

    @Test func esc01() throws {
        let r = try #require(try TortureFixtures.parse("valid", "esc01").request)
        #expect(r.uri.user == "sips%3Auser%40example.com")
        #expect(r.uri.unescapedUser == "sips:user@example.com")
        #expect(try r.to().uri.unescapedUser == "user")
        #expect(try r.from().uri.unescapedUser == "I have spaces")
        #expect(r.callID == "esc01.239409asdfakjkn23onasd0-3234")
        let contact = try #require(try r.contacts().first)
        #expect(contact.uri.unescapedUser == "caller")
        #expect(contact.uri.parameters.contains("%6C%72"))
    }

    @Test func escnull() throws {
        let r = try #require(try TortureFixtures.parse("valid", "escnull").request)
        #expect(try r.to().uri.unescapedUser == "null-\u{0}-null")
        #expect(try r.contacts().map { $0.uri.user } == ["%00", "%00%00"])
        #expect(r.body.readableBytes == 0)
    }

    @Test func esc02() throws {
        let r = try #require(try TortureFixtures.parse("valid", "esc02").request)
        #expect(r.method.rawValue == "RE%47IST%45R")
        #expect(r.method != .register)
        #expect(try r.to().unquotedDisplayName == "%Z%45")
        // "C%6Fntact" is an extension header, not Contact: only two Contact values.
        #expect(try r.contacts().count == 2)
        #expect(r.headers["C%6Fntact"] == "<sip:alias2@host2.example.com>")
    }

    @Test func lwsdisp() throws {
        let r = try #require(try TortureFixtures.parse("valid", "lwsdisp").request)
        let from = try r.from()
        #expect(from.displayName == "caller" && from.uri.user == "caller" && from.tag == "323")
    }

    @Test func longreq() throws {
        let r = try #require(try TortureFixtures.parse("valid", "longreq").request)
        #expect(try r.vias().count == 30)
        let to = try r.to()
        #expect(to.uri.port == 6000 && to.uri.parameters.items.count == 3)
        #expect(try r.from().tag?.hasPrefix("12982982") == true)
        #expect(r.callID?.hasPrefix("longreq.onereally") == true)
        #expect(r.headers.fields.contains { $0.name.canonical.hasPrefix("Unknown-LongLong") })
    }

    @Test func dblreq() throws {
        // RFC 4475 §3.1.1.8 / RFC 3261 §18.3: octets past Content-Length in a datagram are discarded.
        let r = try #require(try TortureFixtures.parse("valid", "dblreq").request)
        #expect(r.method == .register)
        #expect(r.body.readableBytes == 0)
        #expect(r.callID == "dblreq.0ha0isndaksdj99sdfafnl3lk233412")
    }

    @Test func semiuri() throws {
        let r = try #require(try TortureFixtures.parse("valid", "semiuri").request)
        #expect(r.uri.user == "user;par=u%40example.net")
        #expect(r.uri.userNumber == "user")
        #expect(r.uri.userParameters.value("par") == "u%40example.net")
        #expect(r.uri.host == "example.com" && r.uri.parameters.isEmpty)
        #expect(r.headers.values(.accept).count == 6)
    }

    @Test func transports() throws {
        let r = try #require(try TortureFixtures.parse("valid", "transports").request)
        #expect(try r.vias().map(\.transport) == ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"])
    }

    @Test func mpart01() throws {
        let r = try #require(try TortureFixtures.parse("valid", "mpart01").request)
        #expect(r.method == .message)
        #expect(r.headers[.contentType] == "multipart/mixed;boundary=boundary42")
        let body = r.body.getString(at: r.body.readerIndex, length: r.body.readableBytes) ?? ""
        #expect(body.hasSuffix("--boundary42--\r\n"))
        #expect(try r.topVia().rport == .some(nil))
    }

    @Test func unreason() throws {
        let r = try #require(try TortureFixtures.parse("valid", "unreason").response)
        #expect(r.statusCode == 200)
        #expect(r.reasonPhrase.hasPrefix("= 2**3 * 5**2 но"))
    }

    @Test func noreason() throws {
        let r = try #require(try TortureFixtures.parse("valid", "noreason").response)
        #expect(r.statusCode == 100 && r.reasonPhrase.isEmpty)
    }

    // §3.3: syntactically valid; the TU (not the parser) answers 416, 420, 415, 483, ...

    @Test func unknownSchemes() throws {
        let unkscm = try #require(try TortureFixtures.parse("valid", "unkscm").request)
        #expect(unkscm.uri.scheme == "nobodyknowsthisscheme" && unkscm.uri.opaque == "totallyopaquecontent" && !unkscm.uri.isSIP)
        let novelsc = try #require(try TortureFixtures.parse("valid", "novelsc").request)
        #expect(novelsc.uri.scheme == "soap.beep")
        let unksm2 = try #require(try TortureFixtures.parse("valid", "unksm2").request)
        #expect(try unksm2.to().uri.scheme == "isbn")
        #expect(try unksm2.from().uri.scheme == "http")
    }

    @Test func extensionsAndTypes() throws {
        let bext = try #require(try TortureFixtures.parse("valid", "bext01").request)
        #expect(bext.headers.values(.require) == ["nothingSupportsThis", "nothingSupportsThisEither"])
        #expect(bext.headers.values(.proxyRequire).count == 2)
        let invut = try #require(try TortureFixtures.parse("valid", "invut").request)
        #expect(invut.headers[.contentType] == "application/unknownformat" && invut.body.readableBytes == 39)
        let regaut = try #require(try TortureFixtures.parse("valid", "regaut01").request)
        #expect(regaut.headers[.authorization] == "NoOneKnowsThisScheme opaque-data=here")
        let sdp01 = try #require(try TortureFixtures.parse("valid", "sdp01").request)
        #expect(sdp01.headers[.accept] == "text/nobodyKnowsThis")
    }

    @Test func zeroMaxForwards() throws {
        let r = try #require(try TortureFixtures.parse("valid", "zeromf").request)
        #expect(r.headers[.maxForwards] == "0")
    }

    @Test func contactParameters() throws {
        // cparam01: addr-spec, so ;unknownparam is a header parameter; cparam02: inside <>, a URI parameter.
        let c1 = try #require(try TortureFixtures.parse("valid", "cparam01").request?.contacts().first)
        #expect(c1.parameters.contains("unknownparam") && !c1.uri.parameters.contains("unknownparam"))
        let c2 = try #require(try TortureFixtures.parse("valid", "cparam02").request?.contacts().first)
        #expect(c2.uri.parameters.contains("unknownparam") && !c2.parameters.contains("unknownparam"))
        let esc = try #require(try TortureFixtures.parse("valid", "regescrt").request?.contacts().first)
        #expect(esc.uri.headers == "Route=%3Csip:sip.example.com%3E")
    }

    @Test func rfc2543AndBroadcast() throws {
        let inv = try #require(try TortureFixtures.parse("valid", "inv2543").request)
        #expect(try inv.topVia().branch == nil)
        // addr-spec form: ;user=phone is a header parameter (RFC 3261 §20.10).
        #expect(try inv.to().parameters.value("user") == "phone")
        #expect(try inv.from().uri.parameters.value("user") == "phone")
        let bcast = try #require(try TortureFixtures.parse("valid", "bcast").response)
        #expect(try bcast.vias()[1].host == "255.255.255.255")
    }

    /// Every valid fixture also frames correctly on a stream, fed in one piece.
    @Test(arguments: ["wsinv", "esc01", "escnull", "esc02", "lwsdisp", "longreq", "semiuri", "transports", "mpart01",
                      "unreason", "noreason", "intmeth", "bcast", "inv2543"])
    func streamFraming(_ name: String) throws {
        var buffer = try TortureFixtures.data("valid", name)
        var decoder = SIPStreamDecoder()
        let frame = try decoder.next(&buffer)
        guard case .message(let message) = frame else { Issue.record("no message for \(name)"); return }
        try SIPMessageValidator.validate(message)
    }
}
