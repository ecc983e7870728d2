//! Twitch (its token endpoint), Discord, Spotify, Bitbucket, Fitbit, eBay
//! and PayPal, as `oauth-quirks.md` ("The long tail, part two") describes them.

use serde_json::json;

use super::{
    authorize_page, form_post, get_user, json_answer, rfc, rfc_error, rfc_status, Refusal, Spec,
    TokenSpec, UserSpec, BASIC_ONLY, BODY_CREDENTIALS, PARAMS_OR_BASIC,
};
use crate::strict::{self, At, Body, Credentials, Endpoint, Fault, Header, Params};

/// The eBay RuName the mock expects as `redirect_uri` (`EBAY_RUNAME`).
pub const MOCK_EBAY_RUNAME: &str = "Mock_Seller-MockApp-PRD-mockrunam";

pub(super) const TWITCH: Spec = Spec {
    prefix: "tw",
    token: Some(TokenSpec {
        endpoint: form_post(
            "/oauth2/token",
            BODY_CREDENTIALS,
            strict::Refusal {
                status: 400,
                content_type: "application/json",
                body: r#"{"status":400,"message":"{why}"}"#,
                overrides: &[(
                    Fault::Credentials,
                    403,
                    r#"{"status":403,"message":"{why}"}"#,
                )],
            },
        ),
        code_params: &[("redirect_uri", None)],
        refresh: true,
        success: |access, refresh| {
            json_answer(
                200,
                json!({"access_token": access, "refresh_token": refresh, "expires_in": 14124, "scope": ["user:read:email"], "token_type": "bearer"}),
            )
        },
        // No `error`: a status and a message.
        error: |refusal, _| {
            let (status, message) = match refusal {
                Refusal::Client => (403, "invalid client secret"),
                Refusal::Request => (400, "missing or malformed parameters"),
                Refusal::Grant => (400, "Invalid authorization code"),
            };
            json_answer(status, json!({"status": status, "message": message}))
        },
    }),
    user: Some(UserSpec {
        endpoint: Endpoint {
            path: "/helix/users",
            methods: &["GET"],
            body: Body::None,
            credentials: Credentials::Bearer,
            headers: &[Header::named("client-id")],
            params: Params {
                at: At::Query,
                required: &[],
                forbidden: &[],
            },
            refusal: strict::Refusal {
                status: 400,
                content_type: "application/json",
                body: r#"{"error":"Bad Request","status":400,"message":"{why}"}"#,
                overrides: &[(
                    Fault::Credentials,
                    401,
                    r#"{"error":"Unauthorized","status":401,"message":"{why}"}"#,
                )],
            },
        },
        fixed: &[],
        token_param: None,
        user: || json!({"data": [{"id": "141981764", "login": "twitchdev", "display_name": "TwitchDev", "email": "dev@twitch.example", "profile_image_url": "https://static-cdn.example/p.png"}]}),
        error: |refusal, why| {
            let status = if refusal == Refusal::Client { 401 } else { 400 };
            json_answer(
                status,
                json!({"error": "Unauthorized", "status": status, "message": why}),
            )
        },
    }),
    authorize: Some(authorize_page("/oauth2/authorize")),
};

pub(super) const DISCORD: Spec = Spec {
    prefix: "dc",
    token: Some(TokenSpec {
        endpoint: form_post(
            "/api/oauth2/token",
            PARAMS_OR_BASIC,
            strict::Refusal::oauth(),
        ),
        code_params: &[("redirect_uri", None)],
        refresh: true,
        success: |access, refresh| {
            json_answer(
                200,
                json!({"access_token": access, "token_type": "Bearer", "expires_in": 604800, "refresh_token": refresh, "scope": "identify email"}),
            )
        },
        error: rfc_error,
    }),
    user: Some(UserSpec {
        endpoint: get_user(
            "/api/users/@me",
            Credentials::Bearer,
            &[],
            strict::Refusal::json(401, r#"{"message":"401: Unauthorized","code":0}"#),
        ),
        fixed: &[],
        token_param: None,
        user: || json!({"id": "80351110224678912", "username": "nelly", "global_name": "Nelly", "avatar": "8342729096ea3675442027381ff50dfe", "email": "nelly@discord.example", "verified": true}),
        error: |_, _| json_answer(401, json!({"message": "401: Unauthorized", "code": 0})),
    }),
    authorize: Some(authorize_page("/api/oauth2/authorize")),
};

pub(super) const SPOTIFY: Spec = Spec {
    prefix: "sp",
    token: Some(TokenSpec {
        endpoint: form_post(
            "/api/token",
            PARAMS_OR_BASIC,
            strict::Refusal::json(
                400,
                r#"{"error":"invalid_request","error_description":"{why}"}"#,
            ),
        ),
        code_params: &[("redirect_uri", None)],
        refresh: true,
        success: |access, refresh| {
            json_answer(
                200,
                json!({"access_token": access, "token_type": "Bearer", "scope": "user-read-email", "expires_in": 3600, "refresh_token": refresh}),
            )
        },
        error: |refusal, why| {
            json_answer(
                400,
                json!({"error": rfc(refusal), "error_description": why}),
            )
        },
    }),
    user: Some(UserSpec {
        endpoint: get_user(
            "/v1/me",
            Credentials::Bearer,
            &[],
            strict::Refusal {
                status: 400,
                content_type: "application/json",
                body: r#"{"error":{"status":400,"message":"{why}"}}"#,
                overrides: &[(
                    Fault::Credentials,
                    401,
                    r#"{"error":{"status":401,"message":"{why}"}}"#,
                )],
            },
        ),
        fixed: &[],
        token_param: None,
        user: || {
            json!({"id": "smedjan", "display_name": "JM Wizzler", "email": "email@spotify.example",
                   "images": [{"url": "https://i.scdn.example/image/1", "height": 300, "width": 300}], "product": "premium"})
        },
        // The Web API's own error shape.
        error: |refusal, why| {
            let status = if refusal == Refusal::Client { 401 } else { 400 };
            json_answer(status, json!({"error": {"status": status, "message": why}}))
        },
    }),
    authorize: Some(authorize_page("/authorize")),
};

pub(super) const BITBUCKET: Spec = Spec {
    prefix: "bb",
    token: Some(TokenSpec {
        endpoint: form_post(
            "/site/oauth2/access_token",
            BASIC_ONLY,
            strict::Refusal::oauth(),
        ),
        code_params: &[],
        refresh: true,
        success: |access, refresh| {
            json_answer(
                200,
                json!({"access_token": access, "scopes": "account email", "expires_in": 7200, "refresh_token": refresh, "token_type": "bearer", "state": "authorization_code"}),
            )
        },
        error: rfc_error,
    }),
    user: Some(UserSpec {
        endpoint: get_user(
            "/2.0/user",
            Credentials::Bearer,
            &[],
            strict::Refusal {
                status: 400,
                content_type: "application/json",
                body: r#"{"type":"error","error":{"message":"{why}"}}"#,
                overrides: &[(
                    Fault::Credentials,
                    401,
                    r#"{"type":"error","error":{"message":"{why}"}}"#,
                )],
            },
        ),
        fixed: &[],
        token_param: None,
        user: || {
            json!({"uuid": "{c788b2da-b7a2-404c-9e26-d3f077557007}", "account_id": "557058:mock", "username": "evzijst",
                   "display_name": "Erik van Zijst", "links": {"avatar": {"href": "https://bitbucket.example/avatar.png"}}})
        },
        error: |refusal, why| {
            let status = if refusal == Refusal::Client { 401 } else { 400 };
            json_answer(status, json!({"type": "error", "error": {"message": why}}))
        },
    }),
    authorize: Some(authorize_page("/site/oauth2/authorize")),
};

/// Fitbit's `{"errors": [{errorType, message}], "success": false}`.
fn fitbit_error(refusal: Refusal, why: &str) -> super::Answer {
    json_answer(
        rfc_status(refusal),
        json!({"errors": [{"errorType": rfc(refusal), "message": why}], "success": false}),
    )
}

pub(super) const FITBIT: Spec = Spec {
    prefix: "fb",
    token: Some(TokenSpec {
        endpoint: form_post(
            "/oauth2/token",
            BASIC_ONLY,
            strict::Refusal {
                status: 400,
                content_type: "application/json",
                body: r#"{"errors":[{"errorType":"invalid_request","message":"{why}"}],"success":false}"#,
                overrides: &[(
                    Fault::Credentials,
                    401,
                    r#"{"errors":[{"errorType":"invalid_client","message":"{why}"}],"success":false}"#,
                )],
            },
        ),
        code_params: &[],
        refresh: true,
        success: |access, refresh| {
            json_answer(
                200,
                json!({"access_token": access, "expires_in": 28800, "refresh_token": refresh, "scope": "profile", "token_type": "Bearer", "user_id": "26FWFL"}),
            )
        },
        error: fitbit_error,
    }),
    user: Some(UserSpec {
        endpoint: get_user(
            "/1/user/-/profile.json",
            Credentials::Bearer,
            &[],
            strict::Refusal {
                status: 400,
                content_type: "application/json",
                body: r#"{"errors":[{"errorType":"validation","message":"{why}"}],"success":false}"#,
                overrides: &[(
                    Fault::Credentials,
                    401,
                    r#"{"errors":[{"errorType":"invalid_token","message":"{why}"}],"success":false}"#,
                )],
            },
        ),
        fixed: &[],
        token_param: None,
        user: || json!({"user": {"encodedId": "26FWFL", "displayName": "Mock", "fullName": "Mock Runner", "avatar": "https://static0.fitbit.example/a.png"}}),
        error: |refusal, why| {
            let kind = if refusal == Refusal::Client {
                "invalid_token"
            } else {
                "validation"
            };
            json_answer(
                rfc_status(refusal),
                json!({"errors": [{"errorType": kind, "message": why}], "success": false}),
            )
        },
    }),
    authorize: Some(authorize_page("/oauth2/authorize")),
};

pub(super) const EBAY: Spec = Spec {
    prefix: "eb",
    token: Some(TokenSpec {
        endpoint: form_post(
            "/identity/v1/oauth2/token",
            BASIC_ONLY,
            strict::Refusal::oauth(),
        ),
        code_params: &[("redirect_uri", Some(MOCK_EBAY_RUNAME))],
        refresh: false,
        success: |access, refresh| {
            // Only the RuName is a registered redirect (required above).
            json_answer(
                200,
                json!({"access_token": access, "expires_in": 7200, "refresh_token": refresh, "refresh_token_expires_in": 47304000, "token_type": "User Access Token"}),
            )
        },
        error: rfc_error,
    }),
    user: Some(UserSpec {
        endpoint: get_user(
            "/commerce/identity/v1/user/",
            Credentials::Bearer,
            &[],
            strict::Refusal {
                status: 400,
                content_type: "application/json",
                body: r#"{"errors":[{"errorId":2004,"domain":"ACCESS","category":"REQUEST","message":"{why}"}]}"#,
                overrides: &[(
                    Fault::Credentials,
                    401,
                    r#"{"errors":[{"errorId":1001,"domain":"OAuth","category":"REQUEST","message":"{why}"}]}"#,
                )],
            },
        ),
        fixed: &[],
        token_param: None,
        user: || json!({"userId": "1Lr7iuH", "username": "testuser_mock", "accountType": "INDIVIDUAL"}),
        error: |refusal, why| {
            let status = if refusal == Refusal::Client { 401 } else { 400 };
            json_answer(
                status,
                json!({"errors": [{"errorId": 1001, "domain": "OAuth", "category": "REQUEST", "message": why}]}),
            )
        },
    }),
    authorize: Some(authorize_page("/oauth2/authorize")),
};

pub(super) const PAYPAL: Spec = Spec {
    prefix: "pp",
    token: Some(TokenSpec {
        endpoint: form_post("/v1/oauth2/token", BASIC_ONLY, strict::Refusal::oauth()),
        code_params: &[],
        refresh: true,
        success: |access, refresh| {
            json_answer(
                200,
                json!({"access_token": access, "token_type": "Bearer", "expires_in": 28800, "refresh_token": refresh, "nonce": "2026-12-02T00:00:00Zmock", "scope": "openid email"}),
            )
        },
        error: rfc_error,
    }),
    user: Some(UserSpec {
        endpoint: get_user(
            "/v1/identity/oauth2/userinfo",
            Credentials::Bearer,
            &["schema"],
            strict::Refusal {
                status: 400,
                content_type: "application/json",
                body: r#"{"error":"invalid_request","error_description":"{why}"}"#,
                overrides: &[(
                    Fault::Credentials,
                    401,
                    r#"{"error":"invalid_token","error_description":"{why}"}"#,
                )],
            },
        ),
        fixed: &[("schema", "paypalv1.1")],
        token_param: None,
        user: || {
            json!({"user_id": "https://www.paypal.com/webapps/auth/identity/user/mWq6_1sU85v5EG9yHdPxJRrhGHrnMJ-1PQKtX6pcsmA",
                   "name": "identity test", "payer_id": "WDJJHEBZ4X2LY",
                   "emails": [{"value": "user1@paypal.example", "primary": true, "confirmed": true}]})
        },
        error: |refusal, why| {
            let (status, error) = if refusal == Refusal::Client {
                (401, "invalid_token")
            } else {
                (400, "invalid_request")
            };
            json_answer(status, json!({"error": error, "error_description": why}))
        },
    }),
    authorize: Some(authorize_page("/signin/authorize")),
};
