/// The `x-wa-meta-user-*` headers Meta adds to UIC INVITEs and BYEs, and to the 200 OK of a BIC addressed by
/// BSUID (spec §2.1, §3 "Custom headers"): the user's business-scoped id, a display name and the ISO country
/// of the number.
enum MetaUserHeaders {
    static func values(user: String, business: String, names: MetaHeaderNames) -> [(String, String)] {
        let country = E164Country.of(user)
        var out: [(String, String)] = []
        if let name = names.userID, let bsuid = BusinessScopedUserID.make(user: user, business: business) { out.append((name, bsuid)) }
        if let name = names.userName { out.append((name, "WhatsApp User \(user.suffix(4))")) }
        if let name = names.userCountryCode { out.append((name, country)) }
        return out
    }
}
