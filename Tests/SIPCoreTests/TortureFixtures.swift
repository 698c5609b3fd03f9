import Foundation
import NIOCore
import SIPCore

/// Loads the RFC 4475-style torture messages of `Fixtures/torture` (written for wasim, one per RFC case).
enum TortureFixtures {
    static func data(_ kind: String, _ name: String) throws -> ByteBuffer {
        guard let url = Bundle.module.url(forResource: name, withExtension: "sip", subdirectory: "Fixtures/torture/\(kind)") else {
            throw FixtureMissing(name: "\(kind)/\(name)")
        }
        return ByteBuffer(bytes: try Data(contentsOf: url))
    }

    /// Parses as one UDP datagram, then validates.
    static func parse(_ kind: String, _ name: String) throws -> SIPMessage {
        guard let message = try SIPMessageParser.parseDatagram(data(kind, name)) else { throw FixtureMissing(name: name) }
        try SIPMessageValidator.validate(message)
        return message
    }

    struct FixtureMissing: Error { var name: String }
}

extension SIPMessage {
    var request: SIPRequest? { if case .request(let r) = self { return r } else { return nil } }
    var response: SIPResponse? { if case .response(let r) = self { return r } else { return nil } }
}
