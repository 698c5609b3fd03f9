import SIPCore
import Testing

/// The grammar's character classes are bit-mask literals for speed; each must hold exactly the bytes its
/// RFC 3261 §25.1 rule names.
struct CharacterClassTests {
    static let alphanumeric = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

    @Test(arguments: [
        ("token", SIPGrammar.tokenTable, alphanumeric + "-.!%*_+`'~"),
        ("host", SIPGrammar.hostTable, alphanumeric + "-."),
        ("user", SIPGrammar.userTable, alphanumeric + "-_.!~*'()%&=+$,;?/"),
        ("paramchar", SIPGrammar.uriParamTable, alphanumeric + "-_.!~*'()%[]/:&+$"),
        ("hnv", SIPGrammar.uriHeaderTable, alphanumeric + "-_.!~*'()%[]/?:+$"),
        ("word", SIPGrammar.wordTable, alphanumeric + "-.!%*_+`'~()<>:\\\"/[]?{}"),
    ])
    func classHoldsExactlyItsBytes(_ name: String, _ set: SIPCharacterClass, _ members: String) {
        #expect(set == SIPCharacterClass(members), "\(name)")
        for byte in UInt8(0)...UInt8(255) {
            #expect(set.contains(byte) == members.utf8.contains(byte), "\(name): byte \(byte)")
        }
    }

    @Test func headerNamesResolveFromBytesInAnyCase() {
        #expect(SIPHeaderName("call-id") == .callID)
        #expect(SIPHeaderName("I") == .callID)
        #expect(SIPHeaderName("VIA") == .via)
        #expect(SIPHeaderName("X-Custom") == SIPHeaderName("x-custom"))
        #expect(SIPHeaderName("X-Custom").canonical == "X-Custom")
        #expect(SIPHeaderName("X-Custom") != SIPHeaderName("X-Other"))
        #expect(SIPHeaderName.via.isList && !SIPHeaderName.callID.isList && SIPHeaderName.recordRoute.isList)
    }
}
