//! The user endpoints of the first long tail (Douyin, Feishu, Zoom,
//! Pinterest, Strava): what each accepts ([`Endpoint`], judged first) and
//! what it answers. Each takes only an access token its own token endpoint
//! issued (the token mock's prefix), and refuses any other in its own shape.

use serde_json::{json, Value};

use super::kinds::{ProviderKind, SeenRequest};
use super::strict::{At, Body, Credentials, Endpoint, Fault, Params, Refusal};

const JSON: &str = "application/json";

type Answer = (u16, &'static str, String);

const fn bearer_get(path: &'static str, refusal: Refusal) -> Endpoint {
    Endpoint {
        path,
        methods: &["GET"],
        body: Body::None,
        credentials: Credentials::Bearer,
        headers: &[],
        params: Params {
            at: At::Query,
            required: &[],
            forbidden: &[],
        },
        refusal,
    }
}

/// Douyin's public user info: a form POST with `access_token` and `open_id`
/// in the body; no `Authorization` header. Errors are HTTP 200 with a
/// nonzero `data.error_code`.
pub const DOUYIN_USER: Endpoint = Endpoint {
    path: "/oauth/userinfo/",
    methods: &["POST"],
    body: Body::Form,
    credentials: Credentials::Params {
        id: "access_token",
        secret: None,
    },
    headers: &[],
    params: Params {
        at: At::Body,
        required: &["open_id"],
        forbidden: &[],
    },
    refusal: Refusal {
        status: 200,
        content_type: JSON,
        body: r#"{"data":{"error_code":2100005,"description":"{why}"},"message":"error"}"#,
        overrides: &[(
            Fault::Credentials,
            200,
            r#"{"data":{"error_code":2190002,"description":"{why}"},"message":"error"}"#,
        )],
    },
};

/// Feishu's `authen/v1/user_info`: a GET with the user token as Bearer.
pub const FEISHU_USER: Endpoint = bearer_get(
    "/open-apis/authen/v1/user_info",
    Refusal {
        status: 400,
        content_type: JSON,
        body: r#"{"code":99991400,"msg":"{why}"}"#,
        overrides: &[(
            Fault::Credentials,
            400,
            r#"{"code":99991663,"msg":"{why}"}"#,
        )],
    },
);

/// Zoom's `GET /v2/users/me`, Bearer.
pub const ZOOM_USER: Endpoint = bearer_get(
    "/v2/users/me",
    Refusal {
        status: 400,
        content_type: JSON,
        body: r#"{"code":300,"message":"{why}"}"#,
        overrides: &[(Fault::Credentials, 401, r#"{"code":124,"message":"{why}"}"#)],
    },
);

/// Pinterest's `GET /v5/user_account`, Bearer.
pub const PINTEREST_USER: Endpoint = bearer_get(
    "/v5/user_account",
    Refusal {
        status: 400,
        content_type: JSON,
        body: r#"{"code":1,"message":"{why}"}"#,
        overrides: &[(Fault::Credentials, 401, r#"{"code":2,"message":"{why}"}"#)],
    },
);

/// Strava's `GET /api/v3/athlete`, Bearer.
pub const STRAVA_USER: Endpoint = bearer_get(
    "/api/v3/athlete",
    Refusal {
        status: 400,
        content_type: JSON,
        body: r#"{"message":"Bad Request","errors":[{"resource":"Athlete","field":"{why}","code":"invalid"}]}"#,
        overrides: &[(
            Fault::Credentials,
            401,
            r#"{"message":"Authorization Error","errors":[{"resource":"Athlete","field":"{why}","code":"invalid"}]}"#,
        )],
    },
);

/// The user endpoint of `kind`'s mock, its token prefix, and its user.
struct UserMock {
    endpoint: Endpoint,
    /// Access tokens the kind's token endpoint issues start with this.
    token_prefix: &'static str,
    user: fn(&SeenRequest) -> Value,
}

fn user_mock(kind: ProviderKind) -> Option<UserMock> {
    let (endpoint, token_prefix, user): (Endpoint, &'static str, fn(&SeenRequest) -> Value) =
        match kind {
            ProviderKind::Douyin => (DOUYIN_USER, "dy.", |request| {
                json!({"data": {"open_id": request.body_param("open_id"), "union_id": "dy-union-1",
                                "nickname": "Mock Douyin", "avatar": "https://p3.douyinpic.example/a.jpeg",
                                "avatar_larger": "https://p3.douyinpic.example/A.jpeg",
                                "e_account_role": "", "error_code": 0, "description": ""},
                       "message": "success"})
            }),
            ProviderKind::Feishu => (FEISHU_USER, "fs.", |_| {
                json!({"code": 0, "msg": "success",
                       "data": {"name": "Mock Feishu", "en_name": "Mock Feishu", "avatar_url": "https://feishu.example/a.png",
                                "open_id": "ou_feishu1", "union_id": "on_feishu1", "email": "mock@feishu.example",
                                "enterprise_email": "", "tenant_key": "t1"}})
            }),
            ProviderKind::Zoom => (ZOOM_USER, "zm.", |_| {
                json!({"id": "KDcuGIm1QgePTO8WbOqwIQ", "first_name": "Jill", "last_name": "Chill",
                       "display_name": "Jill Chill", "email": "jchill@zoom.example", "type": 1,
                       "pic_url": "https://zoom.example/p/jill.jpg", "status": "active", "verified": 1})
            }),
            ProviderKind::Pinterest => (PINTEREST_USER, "pin.", |_| {
                json!({"account_type": "PERSONAL", "id": "549755885175", "username": "mockpinner",
                       "profile_image": "https://i.pinimg.example/p.jpg", "website_url": "",
                       "business_name": null, "board_count": 3, "pin_count": 12})
            }),
            ProviderKind::Strava => (STRAVA_USER, "st.", |_| {
                json!({"id": 134815, "username": "marianne_t", "resource_state": 2,
                       "firstname": "Marianne", "lastname": "Teutenberg",
                       "profile_medium": "https://strava.example/medium.jpg",
                       "profile": "https://strava.example/large.jpg", "city": "", "country": ""})
            }),
            _ => return None,
        };
    Some(UserMock {
        endpoint,
        token_prefix,
        user,
    })
}

/// The access token where the endpoint takes it.
fn presented_token<'r>(endpoint: &Endpoint, request: &'r SeenRequest) -> Option<&'r str> {
    match endpoint.credentials {
        Credentials::Params { id, .. } => request.body_param(id),
        _ => request.header("authorization")?.strip_prefix("Bearer "),
    }
}

/// The answer of `kind`'s user endpoint, when `request` is for it.
pub fn answer(kind: ProviderKind, request: &SeenRequest) -> Option<Answer> {
    let mock = user_mock(kind).filter(|m| m.endpoint.path == request.path)?;
    let token = presented_token(&mock.endpoint, request).unwrap_or("");
    if !token.starts_with(mock.token_prefix) {
        // The provider's refusal of a bad token, as the strict table writes it.
        let refusal = mock.endpoint.refusal;
        let (status, body) = refusal
            .overrides
            .iter()
            .find(|(fault, _, _)| *fault == Fault::Credentials)
            .map_or((refusal.status, refusal.body), |(_, s, b)| (*s, *b));
        return Some((
            status,
            JSON,
            body.replace("{why}", "the access token is invalid or expired"),
        ));
    }
    Some((200, JSON, (mock.user)(request).to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(path: &str, authorization: Option<&str>, body: &[(&str, &str)]) -> SeenRequest {
        SeenRequest {
            method: "GET".into(),
            path: path.into(),
            query: Vec::new(),
            headers: authorization
                .map(|a| ("authorization".to_owned(), a.to_owned()))
                .into_iter()
                .collect(),
            body: body
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            raw_body: Vec::new(),
        }
    }

    #[test]
    fn a_user_endpoint_serves_only_its_own_tokens() {
        let ok = answer(
            ProviderKind::Zoom,
            &request("/v2/users/me", Some("Bearer zm.mockcode-1"), &[]),
        )
        .unwrap();
        assert_eq!(ok.0, 200);
        assert!(ok.2.contains("Jill Chill"));
        let refused = answer(
            ProviderKind::Zoom,
            &request("/v2/users/me", Some("Bearer pin.mockcode-1"), &[]),
        )
        .unwrap();
        assert_eq!(refused.0, 401);
        assert!(refused.2.contains("\"code\":124"));
        // Douyin reads the token from the body and answers its refusal as HTTP 200.
        let douyin = |token: &str| {
            answer(
                ProviderKind::Douyin,
                &request(
                    "/oauth/userinfo/",
                    None,
                    &[("access_token", token), ("open_id", "dy-open-1")],
                ),
            )
            .unwrap()
        };
        assert!(douyin("dy.mockcode-1")
            .2
            .contains("\"open_id\":\"dy-open-1\""));
        let refused = douyin("expired");
        assert_eq!(refused.0, 200);
        assert!(refused.2.contains("2190002"));
    }

    #[test]
    fn other_paths_and_kinds_are_not_user_endpoints() {
        let token = request("/oauth/token", Some("Bearer zm.x"), &[]);
        assert!(answer(ProviderKind::Zoom, &token).is_none());
        let user = request("/v2/users/me", Some("Bearer zm.x"), &[]);
        assert!(answer(ProviderKind::Reddit, &user).is_none());
    }
}
