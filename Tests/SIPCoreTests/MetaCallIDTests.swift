import NIOCore
import SIPCore
import Testing

/// Meta's UIC Call-ID ends in base64 padding, outside RFC 3261's `word`; a parser talking to Meta must take it.
@Test func metaWacidCallIDIsAccepted() throws {
    let wire = "BYE sip:+15550200000@wa.meta.vc;transport=tls;ob SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5071;branch=z9hG4bK1\r\n"
        + "From: <sip:+33639980001@sip.example.com>;tag=a\r\nTo: <sip:+15550200000@wa.meta.vc>;tag=b\r\n"
        + "Call-ID: outgoing:wacid.HBgLMTIxOTU1NTA3MTQVAgASGCAzODg1NTE5NEU1NTBEMTc1RTFFQUY5NjNCQ0FCRkEzRhwYCzE3MDE1NTU4ODU3FQIAAA==\r\n"
        + "CSeq: 1 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    let message = try #require(try SIPMessageParser.parseDatagram(ByteBuffer(string: wire)))
    try SIPMessageValidator.validate(message)
    guard case .request(let request) = message else { Issue.record("not a request"); return }
    #expect(request.callID?.hasSuffix("AA==") == true)
}

/// Characters outside `word` other than "=" are still refused.
@Test func callIDWithSpaceIsRefused() throws {
    let wire = "OPTIONS sip:wa.meta.vc SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
        + "To: <sip:wa.meta.vc>\r\nCall-ID: a,b\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    let message = try #require(try SIPMessageParser.parseDatagram(ByteBuffer(string: wire)))
    #expect(throws: SIPParseError.self) { try SIPMessageValidator.validate(message) }
}
