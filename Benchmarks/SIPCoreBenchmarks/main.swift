import Foundation
import NIOCore
import SIPAuth
import SIPCore

// Per-operation cost of the SIP core on a Meta-shaped authenticated INVITE (the heaviest message a BIC
// carries), in nanoseconds, the best of 7 rounds (this machine is a noisy VM: the minimum is the steadiest figure). Run: swift run -c release sipcore-bench

let invite = [
    "INVITE sip:+15550200000@wa.meta.vc;transport=tls SIP/2.0",
    "Via: SIP/2.0/TLS 192.0.2.10:5061;branch=z9hG4bK776asdhds.1;rport;alias",
    "Max-Forwards: 70",
    "From: <sip:+33639980001@sip.example.com>;tag=1928301774",
    "To: <sip:+15550200000@wa.meta.vc>",
    "Call-ID: a84b4c76e66710@sip.example.com",
    "CSeq: 2 INVITE",
    "Contact: <sip:+33639980001@sip.example.com;transport=tls>",
    "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS",
    "User-Agent: wasim",
    "Proxy-Authorization: Digest username=\"33639980001\", realm=\"wa.meta.vc\", nonce=\"0a1b20000100abcdef\", uri=\"sip:+15550200000@wa.meta.vc;transport=tls\", response=\"0b7b6a1d5ac8e2f8a4d5d5f2b4d2c0c9\", algorithm=MD5, cnonce=\"5a8f\", opaque=\"725a06fb2cd89a32\", qop=auth, nc=00000001",
    "Content-Type: application/sdp",
    "Content-Length: 128",
    "",
    "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=wasim\r\nt=0 0\r\nm=audio 40000 RTP/SAVP 111 126\r\nc=IN IP4 192.0.2.10\r\na=rtpmap:111 opus/48000/2\r\n",
].joined(separator: "\r\n")
let bytes = ByteBuffer(string: invite)

// A 200 OK for an INVITE as a SIPp UAS sends it: what wasim's load generator reads most.
let ok200 = [
    "SIP/2.0 200 OK",
    "Via: SIP/2.0/UDP 127.0.0.1:40312;branch=z9hG4bK3k2j1h.1a;rport=40312;received=127.0.0.1",
    "From: <sip:+33639980001@sip.example.com>;tag=7f3a91c2b.4",
    "To: <sip:+15550200000@wa.meta.vc>;tag=19923SIPpTag011",
    "Call-ID: 1b.4-x8k2m@127.0.0.1",
    "CSeq: 1 INVITE",
    "Contact: <sip:127.0.0.1:26060;transport=UDP>",
    "Content-Type: application/sdp",
    "Content-Length: 129",
    "",
    "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
].joined(separator: "\r\n")
let ok200Bytes = ByteBuffer(string: ok200)

/// `sipcore-bench NAME` runs only the operation NAME, for about 3 s (to profile it with perf).
let only = CommandLine.arguments.dropFirst().first

func measure(_ name: String, iterations: Int = 20_000, _ body: () throws -> Void) rethrows -> (String, Double) {
    if let only {
        guard name == only else { return (name, 0) }
        let start = DispatchTime.now().uptimeNanoseconds
        var n = 0
        while DispatchTime.now().uptimeNanoseconds - start < 3_000_000_000 {
            for _ in 0..<1000 { try body() }
            n += 1000
        }
        return (name, Double(DispatchTime.now().uptimeNanoseconds - start) / Double(n))
    }
    var rounds: [Double] = []
    for _ in 0..<7 {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<iterations { try body() }
        rounds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / Double(iterations))
    }
    return (name, rounds.min()!)
}

var sink = 0
let message = try SIPMessageParser.parseDatagram(bytes)!
guard case .request(let request) = message else { fatalError() }
var results: [(String, Double)] = []
results.append(try measure("parse (datagram)") { sink &+= try SIPMessageParser.parseDatagram(bytes)!.headers.count })
results.append(try measure("validate") { try SIPMessageValidator.validate(message) })
results.append(try measure("parse + validate") {
    let m = try SIPMessageParser.parseDatagram(bytes)!
    try SIPMessageValidator.validate(m)
})
results.append(try measure("200 OK parse + validate") {
    let m = try SIPMessageParser.parseDatagram(ok200Bytes)!
    try SIPMessageValidator.validate(m)
    sink &+= m.headers.count
})
results.append(try measure("top Via") { sink &+= try request.topVia().branch!.utf8.count })
results.append(try measure("From address") { sink &+= try request.from().tag!.utf8.count })
results.append(measure("response 200 (build)") { sink &+= SIPResponse(to: request, status: 200, toTag: "abc").headers.count })
results.append(measure("serialize INVITE") { sink &+= SIPSerializer.bytes(message).readableBytes })
let credentials = try DigestCredentials(parsing: request.headers[.proxyAuthorization]!)
results.append(try measure("digest credentials parse") { sink &+= try DigestCredentials(parsing: request.headers[.proxyAuthorization]!).nonce.utf8.count })
results.append(measure("digest MD5 response", iterations: 5_000) {
    sink &+= DigestComputation.response(algorithm: .md5, username: "u", realm: "wa.meta.vc", password: "p", method: "INVITE",
                                        uri: credentials.uri, nonce: credentials.nonce, nc: "00000001", cnonce: "5a8f", qop: "auth").utf8.count
})

print(String(format: "%-28@ %12@", "operation" as NSString, "ns/op" as NSString))
for (name, ns) in results { print(String(format: "%-28@ %12.0f", name as NSString, ns)) }
if sink == 42 { print("") }
