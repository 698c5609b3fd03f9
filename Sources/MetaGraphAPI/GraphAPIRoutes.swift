import Foundation
import Hummingbird
import Logging
import MetaMock
import NIOCore

/// The Graph API endpoints the mock serves, on the mock's own state (`MockBusinessDirectory` for settings,
/// `MockCallState` for permissions), so a change here applies to the next SIP call and the SIP calls show
/// here. Paths carry a version (`/v23.0/...`) or none, as Graph accepts both.
struct GraphAPIRoutes: Sendable {
    let mock: MetaMockServer
    let access: GraphAccess
    /// The API's log (`wasim.graph-api`): a line per settings change, at info.
    let logger: Logger

    /// The largest request body read.
    static let maxBody = 64 * 1024

    func register(on router: Router<BasicRequestContext>) {
        // `/{id}/...` and `/{version}/{id}/...`: the router's tree needs one parameter name per level, so the
        // first segment is `a` in both and `respond` tells which is which.
        for prefix in [":a/", ":a/:b/"] {
            router.post("\(prefix)settings") { request, context in
                await respond(request, context) { token, id in try await postSettings(request, token: token, phoneNumberID: id) }
            }
            router.get("\(prefix)settings") { request, context in
                await respond(request, context) { token, id in
                    let business = try GraphAccess.business(id, for: token, permission: MockGraphAPIConfiguration.management,
                                                            directory: mock.directory, method: "GET")
                    let include = request.uri.queryParameters.get("include_sip_credentials").map { $0 == "true" || $0 == "1" } ?? false
                    return (200, CallingSettingsDocument.json(business, includeCredentials: include))
                }
            }
            router.post("\(prefix)calls") { request, context in
                await respond(request, context) { token, id in try await postCalls(request, token: token, phoneNumberID: id) }
            }
            router.get("\(prefix)call_permissions") { request, context in
                await respond(request, context) { token, id in try callPermissions(request, token: token, phoneNumberID: id) }
            }
        }
    }

    /// Runs `body` for the caller's token and the path's phone number id, and writes its result or its
    /// Graph error as JSON.
    private func respond(_ request: Request, _ context: BasicRequestContext,
                         _ body: (MockGraphAPIConfiguration.AccessToken, String) async throws -> (Int, [String: Any])) async -> Response
    {
        do {
            let first = context.parameters.get("a") ?? "", second = context.parameters.get("b")
            if second != nil, !Self.isVersion(first) { throw GraphError.unknownPath(request.uri.path) }
            let phoneNumberID = second ?? first
            let token = try access.caller(authorization: request.headers[.authorization],
                                          accessTokenParameter: request.uri.queryParameters.get("access_token").map { String($0) },
                                          now: mock.clock.wallNow())
            let (status, object) = try await body(token, phoneNumberID)
            return Self.json(status, object)
        } catch {
            let graph: GraphError = (error as? GraphError) ?? GraphError(httpStatus: 500, message: "An unknown error occurred", code: 1)
            return Self.json(graph.httpStatus, graph.body())
        }
    }

    static func json(_ status: Int, _ object: [String: Any]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=UTF-8"
        return Response(status: HTTPResponse.Status(code: status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// `v23.0`, `v17.0`.
    static func isVersion(_ s: String) -> Bool {
        let parts = s.dropFirst().split(separator: ".", omittingEmptySubsequences: false)
        return s.hasPrefix("v") && parts.count == 2 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
    }

    private static func body(_ request: Request) async throws(GraphError) -> Data {
        do {
            var request = request
            var buffer = try await request.collectBody(upTo: maxBody)
            return Data(buffer.readBytes(length: buffer.readableBytes) ?? [])
        } catch {
            throw .invalidParameter("The request body is larger than \(maxBody) bytes or could not be read")
        }
    }

    // MARK: Settings

    private func postSettings(_ request: Request, token: MockGraphAPIConfiguration.AccessToken, phoneNumberID: String) async throws(GraphError)
        -> (Int, [String: Any])
    {
        _ = try GraphAccess.business(phoneNumberID, for: token, permission: MockGraphAPIConfiguration.management, directory: mock.directory, method: "POST")
        let update = try CallingSettingsUpdate(json: try await Self.body(request), appID: token.appID)
        let changes: [String]?
        do {
            changes = try mock.directory.update(phoneNumberID: phoneNumberID) { business in try update.apply(to: &business, appID: token.appID) }
        } catch let error as GraphError {
            throw error
        } catch {
            throw GraphError(httpStatus: 500, message: "An unknown error occurred", code: 1)
        }
        if let changes, !changes.isEmpty {
            logger.info("graph: settings of phone number id \(phoneNumberID) by app \(token.appID): \(changes.joined(separator: "; "))")
        }
        return (200, ["success": true])
    }

    // MARK: Calling

    /// `POST /<PHONE_NUMBER_ID>/calls`: 131055 while the number's SIP setting is enabled (spec §6). With SIP
    /// disabled the request is checked (its fields, then the user's permission and limits from the SIP state:
    /// 138006, 138012, 138003); Graph calling itself (signalling over webhooks and WebRTC media) is not
    /// mocked, which the answer then says.
    private func postCalls(_ request: Request, token: MockGraphAPIConfiguration.AccessToken, phoneNumberID: String) async throws(GraphError)
        -> (Int, [String: Any])
    {
        let business = try GraphAccess.callingBusiness(phoneNumberID, for: token, directory: mock.directory, method: "POST")
        if business.callingEnabled, business.sipEnabled { throw .sipEnabled() }
        let data = try await Self.body(request)
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw .invalidParameter("The request body is not a JSON object")
        }
        guard object["messaging_product"] as? String == "whatsapp" else { throw .invalidParameter("Param messaging_product must be \"whatsapp\"") }
        let actions = ["connect", "pre_accept", "accept", "reject", "terminate"]
        guard let action = object["action"] as? String, actions.contains(action) else {
            throw .invalidParameter("Param action must be one of {\(actions.joined(separator: ", "))}")
        }
        if action == "connect" {
            guard let to = object["to"] as? String, let user = Self.userNumber(to) else { throw .invalidParameter("Param to must be a phone number") }
            if !business.callingEnabled {
                throw GraphError(httpStatus: 400, message: "(#138000) Calling is not enabled", code: 138000,
                                 details: "calling.status is DISABLED for phone number id \(phoneNumberID)")
            }
            if let country = mock.configuration.bicBlockedCountry(of: business.number) {
                throw GraphError(httpStatus: 400, message: "(#138013) Business initiated calling is not available", code: 138013,
                                 details: "Business initiated calls are not available for business phone numbers in \(country)")
            }
            let status = permission(user: user, business: business)
            if status.kind == .noPermission {
                throw GraphError(httpStatus: 401, message: "(#138006) No approved call permission", code: 138006,
                                 details: status.revoked ? "The permission was revoked after unanswered calls" : "No approved call permission from the recipient")
            }
            if let until = status.limitExpiresAt {
                throw GraphError(httpStatus: 400, message: "(#138012) Business initiated calls limit reached", code: 138012,
                                 details: "\(status.connectedLimit) connected calls in 24 h; the next call is allowed at \(Int(until.rounded(.up)))")
            }
            if status.inCall {
                throw GraphError(httpStatus: 400, message: "(#138003) Duplicate call", code: 138003, details: "A call with \(user) is already ongoing")
            }
        }
        throw GraphError(httpStatus: 501, message: "Graph API calling is not mocked by wasim", type: "WasimMockLimitation", code: 1,
                         details: "SIP is disabled for phone number id \(phoneNumberID); wasim mocks calls over SIP only")
    }

    /// `GET /<PHONE_NUMBER_ID>/call_permissions?user_wa_id=` (spec §7).
    private func callPermissions(_ request: Request, token: MockGraphAPIConfiguration.AccessToken, phoneNumberID: String) throws(GraphError)
        -> (Int, [String: Any])
    {
        let business = try GraphAccess.callingBusiness(phoneNumberID, for: token, directory: mock.directory, method: "GET")
        let query = request.uri.queryParameters
        let user: String
        if let raw = query.get("user_wa_id") {
            guard let number = Self.userNumber(String(raw)) else { throw .invalidParameter("Param user_wa_id must be the user's WhatsApp id (phone number digits)") }
            user = number
        } else if let raw = query.get("recipient") {
            // A business-scoped user id of this business's (spec §7).
            guard let number = BusinessScopedUserID.number(from: raw, business: business.number) else {
                throw .invalidParameter("Param recipient is not a business-scoped user id of phone number id \(phoneNumberID)")
            }
            user = number
        } else {
            throw .invalidParameter("Param user_wa_id (or recipient, a business-scoped user id) is required")
        }
        return (200, CallPermissionsDocument.json(permission(user: user, business: business)))
    }

    private func permission(user: String, business: MockConfiguration.Business) -> CallPermissionStatus {
        CallPermissionStatus(user: user, business: business.number, configuration: mock.configuration, state: mock.state,
                             now: mock.clock.wallNow(), startedAt: mock.startedAt)
    }

    /// A WhatsApp id (`15550200001`) or a number with "+" as E.164 with "+".
    static func userNumber(_ s: String) -> String? {
        let n = s.hasPrefix("+") ? s : "+" + s
        return NumberSet.isE164(n) ? n : nil
    }
}
