/// The `x-wa-meta-user-*` headers Meta adds to UIC INVITEs and BYEs (spec §3 "Custom headers"): a stable
/// user id derived from the number, a display name and the ISO country of the number.
enum MetaUserHeaders {
    static func values(user: String, names: MetaHeaderNames) -> [(String, String)] {
        let country = E164Country.of(user)
        var out: [(String, String)] = []
        if let name = names.userID {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in user.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
            out.append((name, "\(country).\(hash % 10_000_000_000_000_000_000)"))
        }
        if let name = names.userName { out.append((name, "WhatsApp User \(user.suffix(4))")) }
        if let name = names.userCountryCode { out.append((name, country)) }
        return out
    }
}
