import NIOCore
import SIPCore
import Testing

/// RFC 4475 §3.1.2 and §3.3: invalid messages. Each must fail with the precise error the table names; none
/// may crash or be accepted.
@Suite("RFC 4475 invalid messages")
struct TortureInvalidTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var code: SIPParseError.Code
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "badinv01", code: .invalidHeader(.via)),
        Case(name: "clerr", code: .bodyTruncated),
        Case(name: "ncl", code: .invalidContentLength),
        Case(name: "scalar02", code: .invalidHeader(.cseq)),
        Case(name: "scalarlg", code: .invalidHeader(.cseq)),
        Case(name: "maxfwd", code: .invalidHeader(.maxForwards)),
        Case(name: "clbig", code: .invalidContentLength),
        Case(name: "quotbal", code: .invalidHeader(.to)),
        Case(name: "ltgtruri", code: .invalidRequestURI),
        Case(name: "lwsruri", code: .malformedStartLine),
        Case(name: "lwsstart", code: .malformedStartLine),
        Case(name: "trws", code: .malformedStartLine),
        Case(name: "escruri", code: .invalidRequestURI),
        Case(name: "baddate", code: .invalidHeader(.date)),
        Case(name: "regbadct", code: .invalidHeader(.contact)),
        Case(name: "badaspec", code: .invalidHeader(.to)),
        Case(name: "baddn", code: .invalidHeader(.from)),
        Case(name: "badvers", code: .unsupportedVersion),
        Case(name: "mismatch01", code: .methodMismatch),
        Case(name: "mismatch02", code: .methodMismatch),
        Case(name: "bigcode", code: .invalidStatusCode),
        Case(name: "insuf", code: .missingHeader(.callID)),
        Case(name: "mcl01", code: .duplicateHeader(.contentLength)),
        Case(name: "multi01", code: .duplicateHeader(.callID)),
        Case(name: "badbranch", code: .invalidHeader(.via)),
    ]

    @Test(arguments: cases)
    func rejected(_ c: Case) throws {
        do {
            _ = try TortureFixtures.parse("invalid", c.name)
            Issue.record("\(c.name) was accepted")
        } catch let error as SIPParseError {
            #expect(error.code == c.code, "\(c.name): \(error)")
            #expect(!error.detail.isEmpty)
        }
    }

    /// The status a server answers with: 505 for a version it does not speak, 400 otherwise.
    @Test func responseStatus() throws {
        #expect(throws: SIPParseError.self) { try TortureFixtures.parse("invalid", "badvers") }
        do { _ = try TortureFixtures.parse("invalid", "badvers") } catch let e as SIPParseError { #expect(e.responseStatus == 505) }
        do { _ = try TortureFixtures.parse("invalid", "ncl") } catch let e as SIPParseError { #expect(e.responseStatus == 400) }
    }
}
