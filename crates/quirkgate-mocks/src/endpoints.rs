//! Every endpoint of every mock, as `../shared/oauth-quirks.md` says the
//! provider serves it: the data [`crate::strict::judge`] refuses by. Paths
//! are the paths of the presets' `upstream` (and `broker:` URLs), so a test
//! points a route at the mock with the preset's own path.

use crate::kinds::ProviderKind;
use crate::login_legs as legs;
use crate::long_tail_users::{DOUYIN_USER, FEISHU_USER, PINTEREST_USER, STRAVA_USER, ZOOM_USER};
use crate::strict::{At, Body, Credentials, Endpoint, Fault, Header, Params, Refusal};

const JSON: &str = "application/json";

const fn params(at: At, required: &'static [&'static str]) -> Params {
    Params {
        at,
        required,
        forbidden: &[],
    }
}

/// The authorize page: the refusal a browser sees instead of a redirect.
const PAGE_REFUSAL: Refusal = Refusal {
    status: 400,
    content_type: "text/plain",
    body: "{why}",
    overrides: &[],
};

/// An authorize page: a GET whose query must name `required` (the client id
/// under the provider's own name first); `forbidden` are the standard names
/// the provider renamed.
pub(crate) const fn authorize_page(
    path: &'static str,
    required: &'static [&'static str],
    forbidden: &'static [&'static str],
) -> Endpoint {
    Endpoint {
        path,
        methods: &["GET"],
        body: Body::None,
        credentials: Credentials::None,
        headers: &[],
        params: Params {
            at: At::Query,
            required,
            forbidden,
        },
        refusal: PAGE_REFUSAL,
    }
}

/// A standard (RFC 6749) token endpoint at `path`: a form POST, credentials
/// where `credentials` says, `grant_type` required.
const fn standard_token(
    path: &'static str,
    credentials: Credentials,
    refusal: Refusal,
) -> Endpoint {
    Endpoint {
        path,
        methods: &["POST"],
        body: Body::Form,
        credentials,
        headers: &[],
        params: params(At::Body, &["grant_type"]),
        refusal,
    }
}

const BODY_CREDENTIALS: Credentials = Credentials::Params {
    id: "client_id",
    secret: Some("client_secret"),
};
const BASIC_ONLY: Credentials = Credentials::Basic {
    refused: &["client_id", "client_secret"],
};

pub const TIKTOK_AUTHORIZE: Endpoint = authorize_page(
    "/v2/auth/authorize/",
    &["client_key", "response_type", "scope", "redirect_uri"],
    &["client_id"],
);
pub const TIKTOK_TOKEN: Endpoint = Endpoint {
    path: "/v2/oauth/token/",
    methods: &["POST"],
    body: Body::Form,
    credentials: Credentials::Params {
        id: "client_key",
        secret: Some("client_secret"),
    },
    headers: &[],
    params: Params {
        at: At::Body,
        required: &["grant_type"],
        forbidden: &["client_id"],
    },
    refusal: Refusal {
        status: 400,
        content_type: JSON,
        body: r#"{"error":"invalid_request","error_description":"{why}","log_id":"mock-log"}"#,
        // TikTok may answer errors with HTTP 200 (oauth-quirks.md: unsure).
        overrides: &[(
            Fault::Credentials,
            200,
            r#"{"error":"invalid_client","error_description":"{why}","log_id":"mock-log"}"#,
        )],
    },
};
pub const TIKTOK_USER: Endpoint = Endpoint {
    path: "/v2/user/info/",
    methods: &["GET"],
    body: Body::None,
    credentials: Credentials::Bearer,
    headers: &[],
    params: params(At::Query, &["fields"]),
    refusal: Refusal {
        status: 400,
        content_type: JSON,
        body: r#"{"data":{},"error":{"code":"invalid_params","message":"{why}","log_id":"mock-log"}}"#,
        overrides: &[(
            Fault::Credentials,
            401,
            r#"{"data":{},"error":{"code":"access_token_invalid","message":"{why}","log_id":"mock-log"}}"#,
        )],
    },
};
/// v1: the parameters in the query of a POST.
pub const TIKTOK_V1_TOKEN: Endpoint = Endpoint {
    path: "/oauth/access_token/",
    methods: &["POST"],
    body: Body::Form,
    credentials: Credentials::Params {
        id: "client_key",
        secret: Some("client_secret"),
    },
    headers: &[],
    params: Params {
        at: At::Query,
        required: &["grant_type"],
        forbidden: &["client_id"],
    },
    refusal: Refusal::json(
        200,
        r#"{"data":{"error_code":10002,"description":"{why}"},"message":"error"}"#,
    ),
};

pub const WECHAT_AUTHORIZE: Endpoint = authorize_page(
    "/connect/qrconnect",
    &["appid", "response_type", "scope", "redirect_uri"],
    &["client_id"],
);
pub const WECHAT_TOKEN: Endpoint = Endpoint {
    path: "/sns/oauth2/access_token",
    methods: &["GET"],
    body: Body::None,
    credentials: Credentials::Params {
        id: "appid",
        secret: Some("secret"),
    },
    headers: &[],
    params: Params {
        at: At::Query,
        required: &["grant_type"],
        forbidden: &["client_id", "client_secret"],
    },
    refusal: Refusal {
        status: 200,
        content_type: "text/plain",
        body: r#"{"errcode":41008,"errmsg":"{why}"}"#,
        overrides: &[
            (Fault::Method, 200, r#"{"errcode":43001,"errmsg":"{why}"}"#),
            (
                Fault::Credentials,
                200,
                r#"{"errcode":41002,"errmsg":"{why}"}"#,
            ),
        ],
    },
};
pub const WECHAT_USER: Endpoint = Endpoint {
    path: "/sns/userinfo",
    methods: &["GET"],
    body: Body::None,
    credentials: Credentials::TokenQuery("access_token"),
    headers: &[],
    params: params(At::Query, &["openid"]),
    refusal: Refusal {
        status: 200,
        content_type: "text/plain",
        body: r#"{"errcode":41009,"errmsg":"{why}"}"#,
        overrides: &[
            (Fault::Method, 200, r#"{"errcode":43001,"errmsg":"{why}"}"#),
            (
                Fault::Credentials,
                200,
                r#"{"errcode":41001,"errmsg":"{why}"}"#,
            ),
        ],
    },
};

pub const GITHUB_AUTHORIZE: Endpoint = authorize_page(
    "/login/oauth/authorize",
    &["client_id", "redirect_uri"],
    &[],
);
pub const GITHUB_TOKEN: Endpoint = Endpoint {
    path: "/login/oauth/access_token",
    methods: &["POST"],
    body: Body::Form,
    credentials: Credentials::ParamsOrBasic {
        id: "client_id",
        secret: "client_secret",
    },
    headers: &[],
    params: params(At::Body, &["code"]),
    // GitHub answers its token errors with HTTP 200.
    refusal: Refusal {
        status: 200,
        content_type: JSON,
        body: r#"{"error":"bad_request","error_description":"{why}","error_uri":"https://docs.github.com/"}"#,
        overrides: &[
            (Fault::Method, 404, r#"{"error":"Not Found"}"#),
            (
                Fault::Credentials,
                200,
                r#"{"error":"incorrect_client_credentials","error_description":"{why}","error_uri":"https://docs.github.com/"}"#,
            ),
        ],
    },
};
/// GitHub's REST API: `GET /user` only, and no request without a `User-Agent`.
pub const GITHUB_USER: Endpoint = Endpoint {
    path: "/user",
    methods: &["GET"],
    body: Body::None,
    credentials: Credentials::Bearer,
    headers: &[Header::named("user-agent")],
    params: params(At::Query, &[]),
    refusal: Refusal {
        status: 400,
        content_type: JSON,
        body: r#"{"message":"{why}","documentation_url":"https://docs.github.com/rest"}"#,
        overrides: &[
            (
                Fault::Method,
                404,
                r#"{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}"#,
            ),
            (
                Fault::Credentials,
                401,
                r#"{"message":"Requires authentication","documentation_url":"https://docs.github.com/rest"}"#,
            ),
            (
                Fault::Header,
                403,
                r#"{"message":"Request forbidden by administrative rules: {why}","documentation_url":"https://docs.github.com/rest"}"#,
            ),
        ],
    },
};

pub const SLACK_TOKEN: Endpoint = Endpoint {
    params: params(At::Body, &["code"]),
    ..standard_token(
        "/api/oauth.v2.access",
        Credentials::ParamsOrBasic {
            id: "client_id",
            secret: "client_secret",
        },
        Refusal {
            status: 200,
            content_type: JSON,
            body: r#"{"ok":false,"error":"invalid_arguments","warning":"{why}"}"#,
            overrides: &[(
                Fault::Credentials,
                200,
                r#"{"ok":false,"error":"invalid_client_id","warning":"{why}"}"#,
            )],
        },
    )
};

pub const REDDIT_TOKEN: Endpoint = standard_token(
    "/api/v1/access_token",
    BASIC_ONLY,
    Refusal {
        status: 400,
        content_type: JSON,
        body: r#"{"message":"Bad Request","error":400,"reason":"{why}"}"#,
        overrides: &[(
            Fault::Credentials,
            401,
            r#"{"message":"Unauthorized","error":401}"#,
        )],
    },
);

pub const NOTION_TOKEN: Endpoint = Endpoint {
    body: Body::Json,
    headers: &[Header::named("notion-version")],
    ..standard_token(
        "/v1/oauth/token",
        BASIC_ONLY,
        Refusal {
            status: 400,
            content_type: JSON,
            body: r#"{"object":"error","status":400,"code":"validation_error","message":"{why}"}"#,
            overrides: &[
                (
                    Fault::Credentials,
                    401,
                    r#"{"error":"invalid_client","error_description":"{why}"}"#,
                ),
                (
                    Fault::Header,
                    400,
                    r#"{"object":"error","status":400,"code":"missing_version","message":"{why}"}"#,
                ),
                (
                    Fault::ContentType,
                    400,
                    r#"{"object":"error","status":400,"code":"invalid_json","message":"{why}"}"#,
                ),
            ],
        },
    )
};

/// DingTalk's login page (login.dingtalk.com) takes the standard names.
pub const DINGTALK_AUTHORIZE: Endpoint = authorize_page(
    "/oauth2/auth",
    &["client_id", "redirect_uri", "response_type", "scope"],
    &[],
);
pub const DINGTALK_TOKEN: Endpoint = Endpoint {
    path: "/v1.0/oauth2/userAccessToken",
    methods: &["POST"],
    body: Body::Json,
    credentials: Credentials::Params {
        id: "clientId",
        secret: Some("clientSecret"),
    },
    headers: &[],
    params: Params {
        at: At::Body,
        required: &["grantType"],
        forbidden: &[
            "client_id",
            "client_secret",
            "grant_type",
            "refresh_token",
            "redirect_uri",
        ],
    },
    refusal: Refusal {
        status: 400,
        content_type: JSON,
        body: r#"{"code":"InvalidParameter","message":"{why}","requestid":"mock"}"#,
        overrides: &[(
            Fault::Credentials,
            400,
            r#"{"code":"MissingclientId","message":"{why}","requestid":"mock"}"#,
        )],
    },
};
pub const DINGTALK_USER: Endpoint = Endpoint {
    path: "/v1.0/contact/users/me",
    methods: &["GET"],
    body: Body::None,
    credentials: Credentials::TokenHeader("x-acs-dingtalk-access-token"),
    headers: &[],
    params: params(At::Query, &[]),
    refusal: Refusal {
        status: 400,
        content_type: JSON,
        body: r#"{"code":"InvalidParameter","message":"{why}","requestid":"mock"}"#,
        overrides: &[(
            Fault::Credentials,
            401,
            r#"{"code":"InvalidAuthentication","message":"{why}","requestid":"mock"}"#,
        )],
    },
};

pub const FEISHU_TOKEN: Endpoint = Endpoint {
    body: Body::Json,
    ..standard_token(
        "/open-apis/authen/v2/oauth/token",
        BODY_CREDENTIALS,
        Refusal {
            status: 400,
            content_type: JSON,
            body: r#"{"code":20001,"error":"invalid_request","error_description":"{why}"}"#,
            overrides: &[(
                Fault::Credentials,
                400,
                r#"{"code":20002,"error":"invalid_client","error_description":"{why}"}"#,
            )],
        },
    )
};

pub const QQ_TOKEN: Endpoint = Endpoint {
    path: "/oauth2.0/token",
    methods: &["GET"],
    body: Body::None,
    credentials: BODY_CREDENTIALS,
    headers: &[],
    params: params(At::Query, &["grant_type"]),
    refusal: Refusal {
        status: 200,
        content_type: "text/html",
        body: "callback( {\"error\":100000,\"error_description\":\"{why}\"} );\n",
        overrides: &[(
            Fault::Credentials,
            200,
            "callback( {\"error\":100016,\"error_description\":\"{why}\"} );\n",
        )],
    },
};

pub const QQ_AUTHORIZE: Endpoint = authorize_page(
    "/oauth2.0/authorize",
    &["client_id", "response_type", "redirect_uri", "state"],
    &[],
);
/// QQ's open id: the token in the query, nothing else required (`unionid=1`
/// and `fmt=json` are asked for, not needed). Refusals as with `fmt=json`.
pub const QQ_ME: Endpoint = Endpoint {
    path: "/oauth2.0/me",
    methods: &["GET"],
    body: Body::None,
    credentials: Credentials::TokenQuery("access_token"),
    headers: &[],
    params: params(At::Query, &[]),
    refusal: Refusal {
        status: 200,
        content_type: "text/html",
        body: r#"{"error":100000,"error_description":"{why}"}"#,
        overrides: &[(
            Fault::Credentials,
            200,
            r#"{"error":100016,"error_description":"{why}"}"#,
        )],
    },
};
/// QQ's user: the app id as `oauth_consumer_key` and the open id in the
/// query beside the token; errors in-band (`ret` ≠ 0) with HTTP 200.
pub const QQ_USER: Endpoint = Endpoint {
    path: "/user/get_user_info",
    methods: &["GET"],
    body: Body::None,
    credentials: Credentials::TokenQuery("access_token"),
    headers: &[],
    params: params(At::Query, &["oauth_consumer_key", "openid"]),
    refusal: Refusal {
        status: 200,
        content_type: JSON,
        body: r#"{"ret":-1,"msg":"{why}"}"#,
        overrides: &[(Fault::Credentials, 200, r#"{"ret":100016,"msg":"{why}"}"#)],
    },
};

pub const DOUYIN_TOKEN: Endpoint = Endpoint {
    params: Params {
        at: At::Body,
        required: &["grant_type"],
        forbidden: &["client_id"],
    },
    ..standard_token(
        "/oauth/access_token/",
        Credentials::Params {
            id: "client_key",
            secret: Some("client_secret"),
        },
        Refusal::json(
            200,
            r#"{"data":{"error_code":"10013","description":"{why}"},"message":"error"}"#,
        ),
    )
};

pub const KUAISHOU_TOKEN: Endpoint = Endpoint {
    path: "/oauth2/access_token",
    methods: &["GET"],
    body: Body::None,
    credentials: Credentials::Params {
        id: "app_id",
        secret: Some("app_secret"),
    },
    headers: &[],
    params: Params {
        at: At::Query,
        required: &["grant_type"],
        forbidden: &["client_id", "client_secret"],
    },
    refusal: Refusal {
        status: 200,
        content_type: JSON,
        body: r#"{"result":100200101,"error":"invalid","error_msg":"{why}"}"#,
        overrides: &[(
            Fault::Credentials,
            200,
            r#"{"result":100200102,"error":"invalid","error_msg":"{why}"}"#,
        )],
    },
};

pub const TWITCH_USER: Endpoint = Endpoint {
    path: "/helix/users",
    methods: &["GET"],
    body: Body::None,
    credentials: Credentials::Bearer,
    headers: &[Header::named("client-id")],
    params: params(At::Query, &[]),
    refusal: Refusal {
        status: 400,
        content_type: JSON,
        body: r#"{"error":"Bad Request","status":400,"message":"{why}"}"#,
        overrides: &[
            (
                Fault::Credentials,
                401,
                r#"{"error":"Unauthorized","status":401,"message":"{why}"}"#,
            ),
            (
                Fault::Header,
                401,
                r#"{"error":"Unauthorized","status":401,"message":"{why}"}"#,
            ),
        ],
    },
};

pub const VK_USER: Endpoint = Endpoint {
    path: "/method/users.get",
    methods: &["GET"],
    body: Body::None,
    credentials: Credentials::TokenQuery("access_token"),
    headers: &[],
    params: params(At::Query, &["v"]),
    refusal: Refusal {
        status: 200,
        content_type: JSON,
        body: r#"{"error":{"error_code":8,"error_msg":"Invalid request: {why}","request_params":[]}}"#,
        overrides: &[(
            Fault::Credentials,
            200,
            r#"{"error":{"error_code":5,"error_msg":"User authorization failed: {why}","request_params":[]}}"#,
        )],
    },
};

pub const FACEBOOK_USER: Endpoint = Endpoint {
    path: "/v19.0/me",
    methods: &["GET"],
    body: Body::None,
    credentials: Credentials::TokenQuery("access_token"),
    headers: &[],
    params: params(At::Query, &["appsecret_proof"]),
    refusal: Refusal {
        status: 400,
        content_type: JSON,
        body: r#"{"error":{"message":"{why}","type":"GraphMethodException","code":100,"fbtrace_id":"mock"}}"#,
        overrides: &[(
            Fault::Credentials,
            400,
            r#"{"error":{"message":"{why}","type":"OAuthException","code":2500,"fbtrace_id":"mock"}}"#,
        )],
    },
};

pub const ZOOM_TOKEN: Endpoint = standard_token(
    "/oauth/token",
    BASIC_ONLY,
    Refusal {
        status: 400,
        content_type: JSON,
        body: r#"{"reason":"{why}","error":"invalid_request"}"#,
        overrides: &[(
            Fault::Credentials,
            401,
            r#"{"reason":"{why}","error":"invalid_client"}"#,
        )],
    },
);
pub const PINTEREST_TOKEN: Endpoint = standard_token(
    "/v5/oauth/token",
    BASIC_ONLY,
    Refusal {
        status: 400,
        content_type: JSON,
        body: r#"{"code":1,"message":"{why}"}"#,
        overrides: &[(Fault::Credentials, 401, r#"{"code":2,"message":"{why}"}"#)],
    },
);
pub const LINKEDIN_TOKEN: Endpoint =
    standard_token("/oauth/v2/accessToken", BODY_CREDENTIALS, Refusal::oauth());
pub const STRAVA_TOKEN: Endpoint = standard_token(
    "/oauth/token",
    BODY_CREDENTIALS,
    Refusal {
        status: 400,
        content_type: JSON,
        body: r#"{"message":"Bad Request","errors":[{"resource":"Application","field":"{why}","code":"invalid"}]}"#,
        overrides: &[(
            Fault::Credentials,
            401,
            r#"{"message":"Authorization Error","errors":[{"resource":"Application","field":"{why}","code":"invalid"}]}"#,
        )],
    },
);
pub const LINE_TOKEN: Endpoint =
    standard_token("/oauth2/v2.1/token", BODY_CREDENTIALS, Refusal::oauth());
pub const X_TOKEN: Endpoint = standard_token(
    "/2/oauth2/token",
    Credentials::BasicWithId {
        id: "client_id",
        secret: "client_secret",
        basic_required: false,
    },
    Refusal {
        overrides: &[(
            Fault::Credentials,
            401,
            r#"{"error":"unauthorized_client","error_description":"{why}"}"#,
        )],
        ..Refusal::oauth()
    },
);
pub const APPLE_AUTHORIZE: Endpoint = authorize_page(
    "/auth/authorize",
    &["client_id", "redirect_uri", "response_type"],
    &[],
);
pub const LINE_AUTHORIZE: Endpoint = authorize_page(
    "/oauth2/v2.1/authorize",
    &[
        "client_id",
        "redirect_uri",
        "response_type",
        "state",
        "scope",
    ],
    &[],
);
pub const LINKEDIN_AUTHORIZE: Endpoint = authorize_page(
    "/oauth/v2/authorization",
    &["client_id", "redirect_uri", "response_type", "scope"],
    &[],
);
pub const APPLE_TOKEN: Endpoint = standard_token(
    "/auth/token",
    BODY_CREDENTIALS,
    Refusal {
        overrides: &[(
            Fault::Credentials,
            400,
            r#"{"error":"invalid_client","error_description":"{why}"}"#,
        )],
        ..Refusal::oauth()
    },
);

/// The first long tail's authorize pages (their user endpoints: `long_tail_users`).
pub const DOUYIN_AUTHORIZE: Endpoint = authorize_page(
    "/platform/oauth/connect/",
    &["client_key", "response_type", "scope", "redirect_uri"],
    &["client_id"],
);
/// Kuaishou's web (QR) login page: the client is `app_id`, `state` is required.
pub const KUAISHOU_AUTHORIZE: Endpoint = authorize_page(
    "/oauth2/connect",
    &["app_id", "response_type", "scope", "redirect_uri", "state"],
    &["client_id"],
);
pub const FEISHU_AUTHORIZE: Endpoint = authorize_page(
    "/open-apis/authen/v1/authorize",
    &["client_id", "redirect_uri"],
    &[],
);
pub const ZOOM_AUTHORIZE: Endpoint = authorize_page(
    "/oauth/authorize",
    &["client_id", "response_type", "redirect_uri"],
    &[],
);
pub const PINTEREST_AUTHORIZE: Endpoint = authorize_page(
    "/oauth/",
    &["client_id", "redirect_uri", "response_type", "scope"],
    &[],
);
pub const STRAVA_AUTHORIZE: Endpoint = authorize_page(
    "/oauth/authorize",
    &["client_id", "redirect_uri", "response_type", "scope"],
    &[],
);

impl ProviderKind {
    /// Every endpoint this mock serves; any other path is a 404.
    pub fn endpoints(self) -> &'static [Endpoint] {
        use ProviderKind::*;
        match self {
            TikTok => &[TIKTOK_AUTHORIZE, TIKTOK_TOKEN, TIKTOK_USER],
            TikTokV1 => &[TIKTOK_V1_TOKEN],
            TikTokUserInfo => &[TIKTOK_USER],
            WeChat => &[WECHAT_AUTHORIZE, WECHAT_TOKEN, WECHAT_USER],
            GitHub => &[GITHUB_AUTHORIZE, GITHUB_TOKEN, GITHUB_USER],
            Slack => &[
                SLACK_TOKEN,
                legs::SLACK_AUTHORIZE,
                legs::SLACK_OPENID_TOKEN,
                legs::SLACK_USER,
            ],
            Reddit => &[REDDIT_TOKEN, legs::REDDIT_AUTHORIZE, legs::REDDIT_USER],
            Notion => &[NOTION_TOKEN, legs::NOTION_AUTHORIZE, legs::NOTION_USER],
            DingTalk => &[DINGTALK_AUTHORIZE, DINGTALK_TOKEN, DINGTALK_USER],
            DingTalkUserInfo => &[DINGTALK_USER],
            Feishu => &[FEISHU_AUTHORIZE, FEISHU_TOKEN, FEISHU_USER],
            Qq => &[QQ_AUTHORIZE, QQ_TOKEN, QQ_ME, QQ_USER],
            Douyin => &[DOUYIN_AUTHORIZE, DOUYIN_TOKEN, DOUYIN_USER],
            Kuaishou => &[
                KUAISHOU_AUTHORIZE,
                KUAISHOU_TOKEN,
                crate::long_tail_two::KUAISHOU_USER_INFO,
            ],
            TwitchUserInfo => &[TWITCH_USER],
            VkUserInfo => &[VK_USER],
            FacebookUserInfo => &[FACEBOOK_USER],
            Zoom => &[ZOOM_AUTHORIZE, ZOOM_TOKEN, ZOOM_USER],
            Pinterest => &[PINTEREST_AUTHORIZE, PINTEREST_TOKEN, PINTEREST_USER],
            LinkedIn => &[LINKEDIN_AUTHORIZE, LINKEDIN_TOKEN],
            Strava => &[STRAVA_AUTHORIZE, STRAVA_TOKEN, STRAVA_USER],
            Line => &[LINE_AUTHORIZE, LINE_TOKEN],
            X => &[X_TOKEN, legs::X_AUTHORIZE, legs::X_USER],
            Apple => &[APPLE_AUTHORIZE, APPLE_TOKEN],
            TailTwo(provider) => provider.endpoints(),
            Alipay | OkRu | Withings => super::signed::endpoints(self),
            Shopify | GitLab => super::tenant::endpoints(self),
            Facebook => &[
                legs::FACEBOOK_AUTHORIZE,
                legs::FACEBOOK_TOKEN,
                FACEBOOK_USER,
            ],
            Vk => &[legs::VK_AUTHORIZE, legs::VK_TOKEN, VK_USER],
        }
    }
}
