import Foundation

/// Reads calls.csv back into records (RFC 4180 quoting, the header checked).
enum CallsCSVReader {
    static func records(_ text: String, file: String) throws -> [CallRecord] {
        var rows = parse(text)
        guard let header = rows.first, header.joined(separator: ",") + "\n" == CallsCSV.header else {
            throw RunRebuild.Failure(description: "\(file): the header is not calls.csv's")
        }
        rows.removeFirst()
        var records: [CallRecord] = []
        records.reserveCapacity(rows.count)
        for (i, f) in rows.enumerated() {
            // A row cut short by a kill (the last line of the file) is left out.
            guard f.count == header.count, let index = Int(f[0]), let status = Int(f[5]) else {
                if i == rows.count - 1 { break }
                throw RunRebuild.Failure(description: "\(file):\(i + 2): not a calls.csv row")
            }
            func ms(_ s: String) -> Double? { Double(s) }
            var r = CallRecord(index: index, callID: f[1], callee: f[2], intendedStartMs: ms(f[3]) ?? 0, actualStartMs: ms(f[4]) ?? 0,
                               status: status, reason: f[6], setupMs: ms(f[7]), postDialMs: ms(f[8]), authMs: ms(f[9]), hangup: f[10])
            r.mediaSecurity = f[11]
            r.mediaStartMs = ms(f[12])
            r.clippedMs = ms(f[13])
            r.clientHelloRetransmissions = Int(f[14])
            r.dtlsHandshakeMs = ms(f[15])
            r.iceMs = ms(f[16])
            r.direction = f[17]
            r.durationMs = ms(f[18])
            r.expected = f[19]
            r.expectationMet = f[20] == "yes" ? true : f[20] == "no" ? false : nil
            r.outcome = f[21]
            r.teardown = f[22]
            r.end = f[23]
            r.succeeded = r.outcome == "connected"
            records.append(r)
        }
        return records
    }

    /// Splits CSV text into rows of fields.
    static func parse(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var chars = text.makeIterator()
        var pending: Character? = nil
        while let c = pending ?? chars.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    if let next = chars.next() {
                        if next == "\"" { field.append("\"") } else { quoted = false; pending = next }
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(c)
                }
                continue
            }
            switch c {
            case "\"": quoted = true
            case ",": row.append(field); field = ""
            case "\n", "\r\n":
                row.append(field); field = ""
                rows.append(row); row = []
            default: field.append(c)
            }
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }
}
