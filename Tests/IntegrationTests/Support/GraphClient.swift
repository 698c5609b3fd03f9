import Foundation
import Testing

/// curl against the Graph API mock, as an integrator's provisioning script calls Meta: a bearer token, JSON
/// in and out, the CA of the mock for HTTPS.
struct GraphClient {
    let baseURL: String
    let caFile: String?
    var version = "v23.0"

    /// One answer: the HTTP status and the JSON body.
    struct Reply: CustomStringConvertible {
        var status: Int
        var body: String
        var json: [String: Any] { ((try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]) ?? [:] }
        var error: [String: Any]? { json["error"] as? [String: Any] }
        /// `error.code`.
        var code: Int? { error?["code"] as? Int }
        var details: String? { (error?["error_data"] as? [String: Any])?["details"] as? String }
        var description: String { "HTTP \(status) \(body)" }
    }

    /// `path` is below the version (`100000000000001/settings`); nil `token` sends none.
    func request(_ method: String, _ path: String, token: String?, json: String? = nil, tokenInQuery: Bool = false,
                 versioned: Bool = true) async throws -> Reply
    {
        let curl = try #require(Peers.path("curl"), "curl is not installed")
        let bodyFile = FileManager.default.temporaryDirectory.appendingPathComponent("graph-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: bodyFile) }
        var url = baseURL + "/" + (versioned ? version + "/" : "") + path
        var arguments = ["-sS", "-X", method, "-o", bodyFile, "-w", "%{http_code}", "--max-time", "20"]
        if let caFile { arguments += ["--cacert", caFile] }
        if let token {
            if tokenInQuery { url += (url.contains("?") ? "&" : "?") + "access_token=\(token)" } else { arguments += ["-H", "Authorization: Bearer \(token)"] }
        }
        if let json { arguments += ["-H", "Content-Type: application/json", "--data-binary", json] }
        let result = try await ExternalProcess.run(curl, arguments + [url], timeout: 30)
        let status = Int(result.output.suffix(3)) ?? 0
        let body = (try? String(contentsOfFile: bodyFile, encoding: .utf8)) ?? ""
        if status == 0 { Issue.record("curl failed: \(result.output)") }
        return Reply(status: status, body: body)
    }

    func get(_ path: String, token: String?) async throws -> Reply { try await request("GET", path, token: token) }
    func post(_ path: String, token: String?, _ json: String) async throws -> Reply { try await request("POST", path, token: token, json: json) }
}
