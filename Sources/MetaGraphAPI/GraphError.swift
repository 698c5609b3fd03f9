import Foundation

/// An error as Meta's Graph API returns it: the HTTP status and
/// `{"error": {"message", "type", "code", "error_subcode", "error_data", "fbtrace_id"}}`.
public struct GraphError: Error, Sendable, Equatable {
    public var httpStatus: Int
    public var message: String
    public var type: String
    public var code: Int
    public var subcode: Int?
    /// `error_data.details` (WhatsApp errors carry one).
    public var details: String?

    public init(httpStatus: Int, message: String, type: String = "OAuthException", code: Int, subcode: Int? = nil, details: String? = nil) {
        self.httpStatus = httpStatus
        self.message = message
        self.type = type
        self.code = code
        self.subcode = subcode
        self.details = details
    }

    /// The JSON body, with a fresh `fbtrace_id`.
    public func body() -> [String: Any] {
        var error: [String: Any] = ["message": message, "type": type, "code": code, "fbtrace_id": Self.traceID()]
        if let subcode { error["error_subcode"] = subcode }
        if let details { error["error_data"] = ["messaging_product": "whatsapp", "details": details] }
        return ["error": error]
    }

    static func traceID() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
        var generator = SystemRandomNumberGenerator()
        return "A" + String((0..<22).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
    }

    // MARK: Meta's errors

    /// 190: no token, or one the mock does not know.
    static func missingToken() -> GraphError {
        GraphError(httpStatus: 401, message: "An access token is required to request this resource.", code: 190)
    }

    static func invalidToken() -> GraphError {
        GraphError(httpStatus: 401, message: "Invalid OAuth access token - Cannot parse access token", code: 190)
    }

    /// 100/33: an object the token's app cannot see (an unknown phone number id, or a number the app has no
    /// access to).
    static func unknownObject(_ id: String, method: String) -> GraphError {
        GraphError(httpStatus: 400,
                   message: "Unsupported \(method.lowercased()) request. Object with ID '\(id)' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
                   type: "GraphMethodException", code: 100, subcode: 33)
    }

    /// 100: a parameter Meta would refuse; `details` names it.
    static func invalidParameter(_ details: String) -> GraphError {
        GraphError(httpStatus: 400, message: "(#100) Invalid parameter", code: 100, details: details)
    }

    /// 200: the token lacks a permission (`whatsapp_business_management` for settings).
    static func missingPermission(_ permission: String) -> GraphError {
        GraphError(httpStatus: 403, message: "(#200) Permissions error", code: 200,
                   details: "The access token does not have the \(permission) permission")
    }

    /// 10: the app has no `whatsapp_business_messaging` on this number.
    static func appNotAuthorized(appID: String, phoneNumberID: String) -> GraphError {
        GraphError(httpStatus: 403, message: "(#10) Application does not have permission for this action", code: 10,
                   details: "The app \(appID) does not have whatsapp_business_messaging on phone number id \(phoneNumberID)")
    }

    /// 613: over the requests a second of one token.
    static func rateLimited(_ perSecond: Double) -> GraphError {
        GraphError(httpStatus: 429, message: "(#613) Calls to this api have exceeded the rate limit.", code: 613,
                   details: "More than \(Int(perSecond)) requests per second")
    }

    /// 2500: a path the API does not have.
    static func unknownPath(_ path: String) -> GraphError {
        GraphError(httpStatus: 400, message: "Unknown path components: \(path)", code: 2500)
    }

    /// 131055: Graph calling endpoints while the number's SIP setting is enabled (spec §6).
    static func sipEnabled() -> GraphError {
        GraphError(httpStatus: 400, message: "(#131055) Method not allowed", code: 131055,
                   details: "Graph API calls are not allowed for SIP enabled numbers")
    }
}
