/// Checks that a parsed message is acceptable to a transaction user: the mandatory headers of RFC 3261
/// §8.1.1 are present once and parse, scalar fields are in range (§20), the CSeq method matches the request
/// method (§8.1.1.5), and the other well-known headers are well-formed.
public enum SIPMessageValidator {
    public static func validate(_ message: SIPMessage) throws(SIPParseError) {
        switch message {
        case .request(let request):
            try validateCommon(request.headers)
            try require(request.headers, .maxForwards, optional: true)
            let cseq = try parse(.cseq, request.headers) { v throws(SIPGrammarError) in try SIPCSeq(parsing: v) }
            // RFC 3261 §8.1.1.5: the CSeq method MUST match the request method.
            guard cseq.method == request.method else {
                throw SIPParseError(.methodMismatch, "CSeq method \(cseq.method) does not match request method \(request.method)")
            }
        case .response(let response):
            try validateCommon(response.headers)
            _ = try parse(.cseq, response.headers) { v throws(SIPGrammarError) in try SIPCSeq(parsing: v) }
        }
    }

    static func validateCommon(_ headers: SIPHeaders) throws(SIPParseError) {
        // One pass: count the single-valued mandatory headers and remember where they are.
        var callIDs = 0, froms = 0, tos = 0, cseqs = 0, vias = 0, contentLengths = 0
        var callID: Substring = "", from: Substring = "", to: Substring = ""
        var maxForwards: Substring?, contentLength: Substring?, expires: Substring?, date: Substring?, contentType: Substring?
        for field in headers.fields {
            switch field.name {
            case .callID: callIDs += 1; if callIDs == 1 { callID = field.value }
            case .from: froms += 1; if froms == 1 { from = field.value }
            case .to: tos += 1; if tos == 1 { to = field.value }
            case .cseq: cseqs += 1
            case .via: vias += 1
            case .contentLength: contentLengths += 1; if contentLengths == 1 { contentLength = field.value }
            case .maxForwards: if maxForwards == nil { maxForwards = field.value }
            case .expires: if expires == nil { expires = field.value }
            case .date: if date == nil { date = field.value }
            case .contentType: if contentType == nil { contentType = field.value }
            default: break
            }
        }
        for (name, count) in [(SIPHeaderName.callID, callIDs), (.from, froms), (.to, tos), (.cseq, cseqs)] {
            if count == 0 { throw SIPParseError(.missingHeader(name), "missing \(name) header") }
            if count > 1 { throw SIPParseError(.duplicateHeader(name), "\(name) appears \(count) times") }
        }
        guard vias > 0 else { throw SIPParseError(.missingHeader(.via), "missing Via header") }
        for value in headers.values(.via) {
            do { _ = try SIPVia(parsing: value) } catch { throw SIPParseError(.invalidHeader(.via), "Via '\(value)': \(error)") }
        }
        // RFC 3261 §25.1 `word` has no "=", but Meta's UIC Call-IDs end in base64 padding
        // (`outgoing:wacid.HBgL…AA==`, spec §3), so "=" is accepted: every SBC talking to Meta must.
        guard !callID.isEmpty, callID.utf8.allSatisfy({ SIPGrammar.wordTable.contains($0) || $0 == UInt8(ascii: "@") || $0 == UInt8(ascii: "=") }) else {
            throw SIPParseError(.invalidHeader(.callID), "Call-ID '\(callID)' is not word[@word]")
        }
        do { _ = try SIPAddress(parsing: from) } catch { throw SIPParseError(.invalidHeader(.from), "From '\(from)': \(error)") }
        do { _ = try SIPAddress(parsing: to) } catch { throw SIPParseError(.invalidHeader(.to), "To '\(to)': \(error)") }
        for name in [SIPHeaderName.contact, .route, .recordRoute] {
            for value in headers.values(name) where !(name == .contact && value == "*") {
                do { _ = try SIPAddress(parsing: value) } catch {
                    throw SIPParseError(.invalidHeader(name), "\(name) '\(value)': \(error)")
                }
            }
        }
        if let mf = maxForwards, SIPGrammar.parseDecimal(mf, max: 255) == nil {
            throw SIPParseError(.invalidHeader(.maxForwards), "Max-Forwards '\(mf)' is not 0-255")
        }
        if contentLengths > 1 {
            throw SIPParseError(.duplicateHeader(.contentLength), "several Content-Length headers")
        }
        if let cl = contentLength, SIPGrammar.parseDecimal(cl, max: UInt64(Int32.max)) == nil {
            throw SIPParseError(.invalidContentLength, "Content-Length '\(cl)' is not a non-negative integer")
        }
        if let expires, SIPGrammar.parseDecimal(expires, max: UInt64.max) == nil {
            throw SIPParseError(.invalidHeader(.expires), "Expires '\(expires)' is not delta-seconds")
        }
        if let date, !SIPDate.isValid(date) {
            throw SIPParseError(.invalidHeader(.date), "Date '\(date)' is not an RFC 1123 date in GMT")
        }
        if let contentType, !isMediaType(contentType) {
            throw SIPParseError(.invalidHeader(.contentType), "Content-Type '\(contentType)' is not type/subtype")
        }
    }

    static func require(_ headers: SIPHeaders, _ name: SIPHeaderName, optional: Bool) throws(SIPParseError) {
        if !optional && !headers.contains(name) { throw SIPParseError(.missingHeader(name), "missing \(name) header") }
    }

    static func parse<T>(_ name: SIPHeaderName, _ headers: SIPHeaders, _ body: (Substring) throws(SIPGrammarError) -> T) throws(SIPParseError) -> T {
        guard let value = headers[name] else { throw SIPParseError(.missingHeader(name), "missing \(name) header") }
        do { return try body(value) } catch { throw SIPParseError(.invalidHeader(name), "\(name) '\(value)': \(error)") }
    }

    static func isMediaType(_ value: Substring) -> Bool {
        (try? SIPValueScanner.scan(value) { scanner throws(SIPGrammarError) -> Bool in
            guard scanner.skip(while: SIPGrammar.tokenTable) > 0, scanner.consume(UInt8(ascii: "/"), lws: true),
                  scanner.skip(while: SIPGrammar.tokenTable) > 0 else { return false }
            _ = try SIPParameters.parse(&scanner)
            scanner.skipWhitespace()
            return scanner.isAtEnd
        }) ?? false
    }
}

/// The SIP-date of RFC 3261 §20.17: `rfc1123-date` with the zone fixed to GMT.
public enum SIPDate {
    static let days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `wkday "," SP 2DIGIT SP month SP 4DIGIT SP 2DIGIT ":" 2DIGIT ":" 2DIGIT SP "GMT"`.
    public static func isValid(_ value: Substring) -> Bool {
        let parts = value.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0].hasSuffix(","), days.contains(String(parts[0].dropLast())),
              parts[1].utf8.count == 2, SIPGrammar.parseDecimal(parts[1], max: 31) != nil,
              months.contains(String(parts[2])),
              parts[3].utf8.count == 4, SIPGrammar.parseDecimal(parts[3], max: 9999) != nil,
              parts[5] == "GMT"
        else { return false }
        let time = parts[4].split(separator: ":", omittingEmptySubsequences: false)
        return time.count == 3 && time.allSatisfy { $0.utf8.count == 2 && SIPGrammar.parseDecimal($0, max: 60) != nil }
    }
}
