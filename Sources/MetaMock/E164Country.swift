/// The ISO 3166 country of an E.164 number, from its calling code (ITU-T E.164 assignments, the common
/// codes) and, within the North American Numbering Plan (+1), from the area code: Canada's and the
/// Caribbean countries' area codes are told apart from the United States'. `ZZ` when unknown.
public enum E164Country {
    public static func of(_ number: String) -> String {
        let digits = number.hasPrefix("+") ? number.dropFirst() : Substring(number)
        if digits.hasPrefix("1"), digits.count >= 4 {
            let area = String(digits.dropFirst().prefix(3))
            if canadianAreaCodes.contains(area) { return "CA" }
            return nanpCountries[area] ?? "US"
        }
        for length in (1...3).reversed() where digits.count > length {
            if let country = callingCodes[String(digits.prefix(length))] { return country }
        }
        return "ZZ"
    }

    static let callingCodes: [String: String] = [
        "7": "RU", "20": "EG", "27": "ZA", "30": "GR", "31": "NL", "32": "BE", "33": "FR", "34": "ES",
        "36": "HU", "39": "IT", "40": "RO", "41": "CH", "43": "AT", "44": "GB", "45": "DK", "46": "SE", "47": "NO",
        "48": "PL", "49": "DE", "51": "PE", "52": "MX", "54": "AR", "55": "BR", "56": "CL", "57": "CO", "58": "VE",
        "60": "MY", "61": "AU", "62": "ID", "63": "PH", "64": "NZ", "65": "SG", "66": "TH", "81": "JP", "82": "KR",
        "84": "VN", "86": "CN", "90": "TR", "91": "IN", "92": "PK", "93": "AF", "94": "LK", "95": "MM", "98": "IR",
        "212": "MA", "213": "DZ", "234": "NG", "254": "KE", "351": "PT", "353": "IE", "358": "FI", "380": "UA",
        "420": "CZ", "852": "HK", "880": "BD", "886": "TW", "966": "SA", "971": "AE", "972": "IL",
    ]

    /// Canada's NANP area codes.
    static let canadianAreaCodes: Set<String> = [
        "204", "226", "236", "249", "250", "263", "289", "306", "343", "354", "365", "367", "368", "382", "403",
        "416", "418", "428", "431", "437", "438", "450", "468", "474", "506", "514", "519", "548", "579", "581",
        "584", "587", "604", "613", "639", "647", "672", "683", "705", "709", "742", "753", "778", "780", "782",
        "807", "819", "825", "867", "873", "879", "902", "905",
    ]

    /// The other NANP members and the US territories with their own ISO codes.
    static let nanpCountries: [String: String] = [
        "242": "BS", "246": "BB", "264": "AI", "268": "AG", "284": "VG", "340": "VI", "345": "KY", "441": "BM",
        "473": "GD", "649": "TC", "658": "JM", "664": "MS", "670": "MP", "671": "GU", "684": "AS", "721": "SX",
        "758": "LC", "767": "DM", "784": "VC", "787": "PR", "809": "DO", "829": "DO", "849": "DO", "868": "TT",
        "869": "KN", "876": "JM", "939": "PR",
    ]
}
