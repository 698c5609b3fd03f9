import MetaMock

/// The body of `GET /<PHONE_NUMBER_ID>/call_permissions?user_wa_id=` (spec §7): the permission's status and
/// expiry, and per action whether it can be performed and its limits with their usage. The mock sends no
/// permission requests of its own, so `send_call_permission_request` shows no usage; `start_call` shows the
/// pair's connected calls of the last 24 h against `limits.connected_bic_per_24h`.
enum CallPermissionsDocument {
    static func json(_ status: CallPermissionStatus, requestLimits: (perDay: Int, perWeek: Int) = (1, 2)) -> [String: Any] {
        var permission: [String: Any] = ["status": status.kind.rawValue]
        if let expiry = status.expiresAt { permission["expiration_time"] = Int(expiry) }
        var startLimit: [String: Any] = ["time_period": "PT24H", "max_allowed": status.connectedLimit,
                                         "current_usage": status.connectedWithinDay]
        if let until = status.limitExpiresAt { startLimit["limit_expiration_time"] = Int(until.rounded(.up)) }
        return [
            "messaging_product": "whatsapp",
            "permission": permission,
            "actions": [
                [
                    "action_name": "send_call_permission_request",
                    // A permanent permission needs no request (error 138017).
                    "can_perform_action": status.kind != .permanent,
                    "limits": [
                        ["time_period": "PT24H", "max_allowed": requestLimits.perDay, "current_usage": 0],
                        ["time_period": "P7D", "max_allowed": requestLimits.perWeek, "current_usage": 0],
                    ],
                ] as [String: Any],
                [
                    "action_name": "start_call",
                    "can_perform_action": status.canStartCall,
                    "limits": [startLimit],
                ] as [String: Any],
            ],
        ]
    }
}
