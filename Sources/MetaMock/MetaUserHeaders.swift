/// The `x-wa-meta-user-*` headers Meta adds to UIC INVITEs and BYEs (spec §3 "Custom headers"): a stable
/// user id derived from the number, a display name and the ISO country of the number.
enum MetaUserHeaders {
    static func values(user: String, names: MetaHeaderNames) -> [(String, String)] {
        let country = countryCode(user)
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

    /// ISO 3166 country of an E.164 number from its calling code, for the common codes; `ZZ` otherwise.
    static func countryCode(_ number: String) -> String {
        let digits = number.hasPrefix("+") ? number.dropFirst() : Substring(number)
        for length in (1...3).reversed() where digits.count > length {
            if let country = callingCodes[String(digits.prefix(length))] { return country }
        }
        return "ZZ"
    }

    static let callingCodes: [String: String] = [
        "1": "US", "7": "RU", "20": "EG", "27": "ZA", "30": "GR", "31": "NL", "32": "BE", "33": "FR", "34": "ES",
        "36": "HU", "39": "IT", "40": "RO", "41": "CH", "43": "AT", "44": "GB", "45": "DK", "46": "SE", "47": "NO",
        "48": "PL", "49": "DE", "51": "PE", "52": "MX", "54": "AR", "55": "BR", "56": "CL", "57": "CO", "58": "VE",
        "60": "MY", "61": "AU", "62": "ID", "63": "PH", "64": "NZ", "65": "SG", "66": "TH", "81": "JP", "82": "KR",
        "84": "VN", "86": "CN", "90": "TR", "91": "IN", "92": "PK", "93": "AF", "94": "LK", "95": "MM", "98": "IR",
        "212": "MA", "213": "DZ", "234": "NG", "254": "KE", "351": "PT", "353": "IE", "358": "FI", "380": "UA",
        "420": "CZ", "852": "HK", "880": "BD", "886": "TW", "966": "SA", "971": "AE", "972": "IL",
    ]
}
