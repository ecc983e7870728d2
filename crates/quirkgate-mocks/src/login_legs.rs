//! The legs a whole login needs from Notion, Slack, Reddit, X, Facebook and
//! VK, beyond the token endpoints of `endpoints.rs`: each provider's
//! authorize page (its real path and parameter names), its user endpoint,
//! and the token calls of Sign in with Slack, Facebook and VK
//! (`../shared/oauth-quirks.md`). One mock per provider serves all three.

use serde_json::json;

use crate::endpoints::authorize_page;
use crate::kinds::{ProviderKind, SeenRequest};
use crate::strict::{At, Body, Credentials, Endpoint, Fault, Header, Params, Refusal};

type Answer = (u16, &'static str, String);
const JSON: &str = "application/json";

const fn no_params(at: At) -> Params {
    Params {
        at,
        required: &[],
        forbidden: &[],
    }
}

/// A GET of the user with `Authorization: Bearer`, refused in `refusal`.
const fn bearer_user(path: &'static str, headers: &'static [Header], refusal: Refusal) -> Endpoint {
    Endpoint {
        path,
        methods: &["GET"],
        body: Body::None,
        credentials: Credentials::Bearer,
        headers,
        params: no_params(At::Query),
        refusal,
    }
}

/// Notion's authorize page (api.notion.com/v1/oauth/authorize): the standard names.
pub const NOTION_AUTHORIZE: Endpoint = authorize_page(
    "/v1/oauth/authorize",
    &["client_id", "response_type", "redirect_uri"],
    &[],
);
/// Notion's bot user (the owner inside it): Bearer and the `Notion-Version` header.
pub const NOTION_USER: Endpoint = bearer_user(
    "/v1/users/me",
    &[Header::named("notion-version")],
    Refusal {
        status: 400,
        content_type: JSON,
        body: r#"{"object":"error","status":400,"code":"validation_error","message":"{why}"}"#,
        overrides: &[
            (
                Fault::Credentials,
                401,
                r#"{"object":"error","status":401,"code":"unauthorized","message":"{why}"}"#,
            ),
            (
                Fault::Header,
                400,
                r#"{"object":"error","status":400,"code":"missing_version","message":"{why}"}"#,
            ),
        ],
    },
);

/// Slack's errors: HTTP 200 with `"ok": false`.
const SLACK_REFUSAL: Refusal = Refusal {
    status: 200,
    content_type: JSON,
    body: r#"{"ok":false,"error":"invalid_arguments","warning":"{why}"}"#,
    overrides: &[(
        Fault::Credentials,
        200,
        r#"{"ok":false,"error":"not_authed","warning":"{why}"}"#,
    )],
};
/// Sign in with Slack (OpenID Connect): its authorize page.
pub const SLACK_AUTHORIZE: Endpoint = authorize_page(
    "/openid/connect/authorize",
    &["client_id", "response_type", "scope", "redirect_uri"],
    &[],
);
/// `openid.connect.token`: a form with the code; credentials in it or Basic.
pub const SLACK_OPENID_TOKEN: Endpoint = Endpoint {
    path: "/api/openid.connect.token",
    methods: &["POST"],
    body: Body::Form,
    credentials: Credentials::ParamsOrBasic {
        id: "client_id",
        secret: "client_secret",
    },
    headers: &[],
    params: Params {
        at: At::Body,
        required: &["code"],
        forbidden: &[],
    },
    refusal: SLACK_REFUSAL,
};
/// `openid.connect.userInfo`: the user token as Bearer.
pub const SLACK_USER: Endpoint = bearer_user("/api/openid.connect.userInfo", &[], SLACK_REFUSAL);

/// Reddit's authorize page (www.reddit.com/api/v1/authorize).
pub const REDDIT_AUTHORIZE: Endpoint = authorize_page(
    "/api/v1/authorize",
    &[
        "client_id",
        "response_type",
        "redirect_uri",
        "scope",
        "state",
    ],
    &[],
);
/// oauth.reddit.com/api/v1/me: Bearer, and Reddit refuses a request without a User-Agent.
pub const REDDIT_USER: Endpoint = bearer_user(
    "/api/v1/me",
    &[Header::named("user-agent")],
    Refusal {
        status: 400,
        content_type: JSON,
        body: r#"{"message":"Bad Request","error":400,"reason":"{why}"}"#,
        overrides: &[
            (
                Fault::Credentials,
                401,
                r#"{"message":"Unauthorized","error":401}"#,
            ),
            (
                Fault::Header,
                429,
                r#"{"message":"Too Many Requests","error":429}"#,
            ),
        ],
    },
);

/// X's authorize page (x.com/i/oauth2/authorize): PKCE is required.
pub const X_AUTHORIZE: Endpoint = authorize_page(
    "/i/oauth2/authorize",
    &[
        "client_id",
        "response_type",
        "redirect_uri",
        "scope",
        "state",
        "code_challenge",
        "code_challenge_method",
    ],
    &[],
);
/// api.x.com/2/users/me: Bearer; the user wrapped in `data`.
pub const X_USER: Endpoint = bearer_user(
    "/2/users/me",
    &[],
    Refusal {
        status: 400,
        content_type: JSON,
        body: r#"{"title":"Invalid Request","detail":"{why}","type":"https://api.twitter.com/2/problems/invalid-request"}"#,
        overrides: &[(
            Fault::Credentials,
            401,
            r#"{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}"#,
        )],
    },
);

/// A token call made as a GET with client_id, client_secret, redirect_uri
/// and code in the query (Facebook's Graph, VK).
const fn query_token(path: &'static str, refusal: Refusal) -> Endpoint {
    Endpoint {
        path,
        methods: &["GET"],
        body: Body::None,
        credentials: Credentials::Params {
            id: "client_id",
            secret: Some("client_secret"),
        },
        headers: &[],
        params: Params {
            at: At::Query,
            required: &["code", "redirect_uri"],
            forbidden: &[],
        },
        refusal,
    }
}

/// Facebook's login dialog (www.facebook.com/v19.0/dialog/oauth).
pub const FACEBOOK_AUTHORIZE: Endpoint = authorize_page(
    "/v19.0/dialog/oauth",
    &["client_id", "redirect_uri", "state"],
    &[],
);
/// Graph's token call: a GET with client_id, client_secret, redirect_uri and code in the query.
pub const FACEBOOK_TOKEN: Endpoint = query_token(
    "/v19.0/oauth/access_token",
    Refusal {
        status: 400,
        content_type: JSON,
        body: r#"{"error":{"message":"{why}","type":"OAuthException","code":100,"fbtrace_id":"mock"}}"#,
        overrides: &[(
            Fault::Credentials,
            400,
            r#"{"error":{"message":"Error validating application. {why}","type":"OAuthException","code":101,"fbtrace_id":"mock"}}"#,
        )],
    },
);

/// VK's authorize page (oauth.vk.com/authorize).
pub const VK_AUTHORIZE: Endpoint = authorize_page(
    "/authorize",
    &["client_id", "redirect_uri", "response_type"],
    &[],
);
/// oauth.vk.com/access_token: a GET with client_id, client_secret, redirect_uri and code.
pub const VK_TOKEN: Endpoint = query_token(
    "/access_token",
    Refusal {
        status: 400,
        content_type: JSON,
        body: r#"{"error":"invalid_request","error_description":"{why}"}"#,
        overrides: &[(
            Fault::Credentials,
            401,
            r#"{"error":"invalid_client","error_description":"{why}"}"#,
        )],
    },
);

/// base64url(SHA-256(verifier)): the S256 challenge (RFC 7636 §4.2).
pub fn s256_challenge(verifier: &str) -> String {
    use base64::Engine;
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// The code an authorize page hands out: with PKCE, the challenge rides in
/// it (`mockcode-1.<challenge>`), so the token endpoint can check the
/// verifier without keeping state.
pub fn issued_code(request: &SeenRequest) -> String {
    match request.query_param("code_challenge") {
        Some(challenge) => format!("mockcode-1.{challenge}"),
        None => "mockcode-1".to_owned(),
    }
}

/// `Err`: why the token endpoint refuses `verifier` for `code` (a code the
/// page issued with a challenge needs the verifier of that challenge).
pub fn check_verifier(code: &str, verifier: Option<&str>) -> Result<(), &'static str> {
    match (code.strip_prefix("mockcode-1."), verifier) {
        (_, None) => Err("Missing required parameter [code_verifier]."),
        (Some(challenge), Some(verifier)) if s256_challenge(verifier) != challenge => {
            Err("Value passed for the authorization code was invalid.")
        }
        _ => Ok(()),
    }
}

/// The mock's answer to an accepted request on one of the paths above, or
/// `None` when the kind's own logic answers it.
pub fn answer(kind: ProviderKind, request: &SeenRequest) -> Option<Answer> {
    let token = bearer(request);
    let answer = match (kind, request.path.as_str()) {
        (ProviderKind::Notion, "/v1/users/me") => notion_user(token),
        (ProviderKind::Slack, "/api/openid.connect.token") => slack_token(request),
        (ProviderKind::Slack, "/api/openid.connect.userInfo") => slack_user(token),
        (ProviderKind::Reddit, "/api/v1/me") => reddit_user(token),
        (ProviderKind::X, "/2/users/me") => x_user(token),
        (ProviderKind::Facebook, "/v19.0/oauth/access_token") => facebook_token(request),
        (ProviderKind::Facebook, _) => {
            super::long_tail::answer(ProviderKind::FacebookUserInfo, request)
        }
        (ProviderKind::Vk, "/access_token") => vk_token(request),
        (ProviderKind::Vk, _) => super::long_tail::answer(ProviderKind::VkUserInfo, request),
        _ => return None,
    };
    Some(answer)
}

fn answer_json(status: u16, value: serde_json::Value) -> Answer {
    (status, JSON, value.to_string())
}

/// The Bearer token, unless it is one the mock plays as refused (`expired…`).
fn bearer(request: &SeenRequest) -> Option<&str> {
    request
        .header("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
        .filter(|token| !token.is_empty() && !token.starts_with("expired"))
}

fn notion_user(token: Option<&str>) -> Answer {
    match token {
        Some(_) => answer_json(
            200,
            json!({"object": "user", "id": "bot-1", "type": "bot", "name": "Mock Integration", "avatar_url": null,
                "bot": {"owner": {"type": "user", "user": {"object": "user", "id": "notion-user-1", "name": "Mock Notion",
                    "avatar_url": "https://s3.notion.example/a.png", "type": "person", "person": {"email": "mock@notion.example"}}},
                    "workspace_name": "Mock"}}),
        ),
        None => answer_json(
            401,
            json!({"object": "error", "status": 401, "code": "unauthorized", "message": "API token is invalid."}),
        ),
    }
}

fn slack_token(request: &SeenRequest) -> Answer {
    match request.body_param("code") {
        Some(code) if !code.starts_with("expired") => answer_json(
            200,
            json!({"ok": true, "access_token": format!("xoxp-{code}"), "token_type": "Bearer"}),
        ),
        _ => answer_json(200, json!({"ok": false, "error": "invalid_code"})),
    }
}

fn slack_user(token: Option<&str>) -> Answer {
    match token {
        Some(_) => answer_json(
            200,
            json!({"ok": true, "sub": "U0R7JM", "https://slack.com/user_id": "U0R7JM", "https://slack.com/team_id": "T0R7GR",
                "email": "krane@slack.example", "email_verified": true, "name": "Mock Slacker",
                "picture": "https://secure.gravatar.example/s.png", "given_name": "Mock", "family_name": "Slacker", "locale": "en-US"}),
        ),
        None => answer_json(200, json!({"ok": false, "error": "invalid_auth"})),
    }
}

fn reddit_user(token: Option<&str>) -> Answer {
    match token {
        Some(_) => answer_json(
            200,
            json!({"id": "t2mock1", "name": "mock_redditor", "icon_img": "https://styles.redditmedia.example/i.png", "created_utc": 1_500_000_000.0, "verified": true}),
        ),
        None => answer_json(401, json!({"message": "Unauthorized", "error": 401})),
    }
}

fn x_user(token: Option<&str>) -> Answer {
    match token {
        Some(_) => answer_json(
            200,
            json!({"data": {"id": "2244994945", "name": "Mock X", "username": "mockx"}}),
        ),
        None => answer_json(
            401,
            json!({"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}),
        ),
    }
}

fn facebook_token(request: &SeenRequest) -> Answer {
    match request.query_param("code") {
        Some(code) if !code.starts_with("expired") => answer_json(
            200,
            json!({"access_token": format!("fb.{code}"), "token_type": "bearer", "expires_in": 5_183_944}),
        ),
        _ => answer_json(
            400,
            json!({"error": {"message": "This authorization code has expired.", "type": "OAuthException", "code": 100, "fbtrace_id": "mock"}}),
        ),
    }
}

fn vk_token(request: &SeenRequest) -> Answer {
    match request.query_param("code") {
        Some(code) if !code.starts_with("expired") => answer_json(
            200,
            json!({"access_token": format!("vk1.{code}"), "expires_in": 86400, "user_id": 210_700_286, "email": "lindsey@vk.example"}),
        ),
        _ => answer_json(
            401,
            json!({"error": "invalid_grant", "error_description": "Code is invalid or expired."}),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_issued_with_a_challenge_takes_only_its_verifier() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        // RFC 7636 Appendix B.
        let challenge = s256_challenge(verifier);
        assert_eq!(challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        let code = format!("mockcode-1.{challenge}");
        assert_eq!(check_verifier(&code, Some(verifier)), Ok(()));
        assert!(check_verifier(&code, Some("another-verifier-of-43-characters-abcdefgh")).is_err());
        assert!(check_verifier(&code, None).is_err());
        assert!(check_verifier("plain-code", None).is_err());
        assert_eq!(check_verifier("plain-code", Some(verifier)), Ok(()));
    }
}
