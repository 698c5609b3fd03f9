/// Business-scoped user IDs (BSUIDs): the opaque id a business sees for a WhatsApp user once usernames apply,
/// different for each business (spec §1, §3 [BSUID]). Shaped as Meta's, `<ISO country>.<up to 19 digits>`;
/// in the mock a bijection of the user's number keyed by the business number, so the mock can address
/// users by BSUID in both directions without a table.
public enum BusinessScopedUserID {
    static let modulus: UInt64 = 10_000_000_000_000_000_000
    static let multiplier: UInt64 = 7_046_029_254_386_353_131
    /// `multiplier`'s inverse modulo 10^19.
    static let inverse: UInt64 = 9_059_551_697_474_456_771

    /// The BSUID `business` sees for `user` (E.164 with "+"); nil for a string that is not such a number.
    public static func make(user: String, business: String) -> String? {
        guard NumberSet.isE164(user), let n = UInt64(user.dropFirst()) else { return nil }
        return "\(E164Country.of(user)).\(add(mulmod(n, multiplier), offset(business)))"
    }

    /// The number behind a BSUID of `business`'s; nil when `text` is not one.
    public static func number(from text: some StringProtocol, business: String) -> String? {
        let parts = text.split(separator: ".")
        guard parts.count == 2, parts[0].count == 2, let m = UInt64(parts[1]), m < modulus else { return nil }
        let n = mulmod(sub(m, offset(business)), inverse)
        let number = "+\(n)"
        guard NumberSet.isE164(number), E164Country.of(number) == parts[0] else { return nil }
        return number
    }

    /// Per business: FNV-1a of its number, below the modulus.
    static func offset(_ business: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in business.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash % modulus
    }

    static func mulmod(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (high, low) = a.multipliedFullWidth(by: b)
        return modulus.dividingFullWidth((high, low)).remainder
    }

    static func add(_ a: UInt64, _ b: UInt64) -> UInt64 { let s = a &+ b; return s >= modulus || s < a ? s &- modulus : s }
    static func sub(_ a: UInt64, _ b: UInt64) -> UInt64 { a >= b ? a - b : a &+ (modulus - b) }
}
