//! Kakao, Naver, Weibo, Baidu, Lark, Huawei and Kuaishou's user info, as
//! `oauth-quirks.md` ("The long tail, part two") describes them.

use serde_json::json;

use super::{
    authorize_page, authorize_page_requiring, form_post, get_user, json_answer, rfc, rfc_status,
    Refusal, Spec, TokenSpec, UserSpec, BODY_CREDENTIALS,
};
use crate::strict::{self, At, Body, Credentials, Endpoint, Fault, Params};

pub(super) const KAKAO: Spec = Spec {
    prefix: "kk",
    token: Some(TokenSpec {
        endpoint: form_post(
            "/oauth/token",
            BODY_CREDENTIALS,
            strict::Refusal {
                status: 400,
                content_type: "application/json",
                body: r#"{"error":"invalid_request","error_description":"{why}","error_code":"KOE101"}"#,
                overrides: &[(
                    Fault::Credentials,
                    401,
                    r#"{"error":"invalid_client","error_description":"{why}","error_code":"KOE010"}"#,
                )],
            },
        ),
        code_params: &[("redirect_uri", None)],
        refresh: true,
        success: |access, refresh| {
            json_answer(
                200,
                json!({"token_type": "bearer", "access_token": access, "expires_in": 21599, "refresh_token": refresh, "refresh_token_expires_in": 5183999, "scope": "profile_nickname account_email"}),
            )
        },
        error: |refusal, why| {
            let kakao_code = match refusal {
                Refusal::Client => "KOE010",
                Refusal::Request => "KOE101",
                Refusal::Grant => "KOE320",
            };
            json_answer(
                rfc_status(refusal),
                json!({"error": rfc(refusal), "error_description": why, "error_code": kakao_code}),
            )
        },
    }),
    user: Some(UserSpec {
        endpoint: get_user(
            "/v2/user/me",
            Credentials::Bearer,
            &[],
            strict::Refusal {
                status: 400,
                content_type: "application/json",
                body: r#"{"msg":"{why}","code":-2}"#,
                overrides: &[(Fault::Credentials, 401, r#"{"msg":"{why}","code":-401}"#)],
            },
        ),
        fixed: &[],
        token_param: None,
        user: || {
            json!({"id": 1234567890123u64, "connected_at": "2026-01-01T00:00:00Z",
                   "properties": {"nickname": "Mock Kakao"},
                   "kakao_account": {"profile": {"nickname": "Mock Kakao", "profile_image_url": "https://k.kakaocdn.example/p.jpg"},
                                     "email": "mock@kakao.example", "is_email_verified": true}})
        },
        error: |refusal, why| {
            let status = if refusal == Refusal::Client { 401 } else { 400 };
            let code = if refusal == Refusal::Client { -401 } else { -2 };
            json_answer(status, json!({"msg": why, "code": code}))
        },
    }),
    authorize: Some(authorize_page("/oauth/authorize")),
};

pub(super) const NAVER: Spec = Spec {
    prefix: "nv",
    token: Some(TokenSpec {
        endpoint: form_post(
            "/oauth2.0/token",
            BODY_CREDENTIALS,
            strict::Refusal {
                status: 200,
                content_type: "application/json",
                body: r#"{"error":"invalid_request","error_description":"{why}"}"#,
                overrides: &[(
                    Fault::Credentials,
                    200,
                    r#"{"error":"invalid_client","error_description":"{why}"}"#,
                )],
            },
        ),
        code_params: &[("state", None)],
        refresh: true,
        success: |access, refresh| {
            json_answer(
                200,
                json!({"access_token": access, "refresh_token": refresh, "token_type": "bearer", "expires_in": "3600"}),
            )
        },
        // Naver answers its errors with HTTP 200 (oauth-quirks.md: unsure);
        // a bad code is "no valid data in session".
        error: |refusal, why| {
            let (code, description) = match refusal {
                Refusal::Grant => ("invalid_request", "no valid data in session"),
                _ => (rfc(refusal), why),
            };
            json_answer(
                200,
                json!({"error": code, "error_description": description}),
            )
        },
    }),
    user: Some(UserSpec {
        endpoint: get_user(
            "/v1/nid/me",
            Credentials::Bearer,
            &[],
            strict::Refusal {
                status: 400,
                content_type: "application/json",
                body: r#"{"resultcode":"010","message":"{why}"}"#,
                overrides: &[(
                    Fault::Credentials,
                    401,
                    r#"{"resultcode":"024","message":"{why}"}"#,
                )],
            },
        ),
        fixed: &[],
        token_param: None,
        user: || {
            json!({"resultcode": "00", "message": "success",
                   "response": {"id": "32742776", "nickname": "OpenAPI", "name": "Mock Naver", "email": "openapi@naver.example", "profile_image": "https://ssl.pstatic.example/p.gif"}})
        },
        error: |refusal, why| {
            let (status, code) = if refusal == Refusal::Client {
                (401, "024")
            } else {
                (400, "010")
            };
            json_answer(status, json!({"resultcode": code, "message": why}))
        },
    }),
    // state is required on Naver's page (and again on its token call).
    authorize: Some(authorize_page_requiring(
        "/oauth2.0/authorize",
        &["response_type", "client_id", "redirect_uri", "state"],
    )),
};

pub(super) const WEIBO: Spec = Spec {
    prefix: "wb",
    token: Some(TokenSpec {
        endpoint: form_post(
            "/oauth2/access_token",
            BODY_CREDENTIALS,
            strict::Refusal::json(
                400,
                r#"{"error":"invalid_request","error_code":21323,"request":"/oauth2/access_token","error_description":"{why}"}"#,
            ),
        ),
        code_params: &[("redirect_uri", None)],
        refresh: false,
        success: |access, _| {
            json_answer(
                200,
                json!({"access_token": access, "expires_in": 157679999, "remind_in": "157679999", "uid": "1404376560", "isRealName": "true"}),
            )
        },
        error: |refusal, why| {
            let code = match refusal {
                Refusal::Client => 21324,
                Refusal::Request => 21323,
                Refusal::Grant => 21325,
            };
            json_answer(
                400,
                json!({"error": rfc(refusal), "error_code": code, "request": "/oauth2/access_token", "error_uri": "/oauth2/access_token", "error_description": why}),
            )
        },
    }),
    user: Some(UserSpec {
        endpoint: get_user(
            "/2/users/show.json",
            Credentials::TokenQuery("access_token"),
            &["uid"],
            strict::Refusal::json(
                400,
                r#"{"error":"{why}","error_code":10016,"request":"/2/users/show.json"}"#,
            ),
        ),
        fixed: &[("uid", "1404376560")],
        token_param: None,
        user: || {
            json!({"id": 1404376560u64, "idstr": "1404376560", "screen_name": "zaku", "name": "zaku",
                   "profile_image_url": "https://tp1.sinaimg.example/50.jpg", "avatar_large": "https://tp1.sinaimg.example/180.jpg"})
        },
        error: |refusal, why| {
            let (error, code) = match refusal {
                Refusal::Client => ("invalid_access_token", 21332),
                _ => ("miss required parameter", 10016),
            };
            json_answer(
                400,
                json!({"error": error, "error_code": code, "request": "/2/users/show.json", "detail": why}),
            )
        },
    }),
    authorize: Some(authorize_page("/oauth2/authorize")),
};

pub(super) const BAIDU: Spec = Spec {
    prefix: "bd",
    token: Some(TokenSpec {
        endpoint: Endpoint {
            path: "/oauth/2.0/token",
            methods: &["GET", "POST"],
            body: Body::None,
            credentials: BODY_CREDENTIALS,
            headers: &[],
            params: Params {
                at: At::Query,
                required: &["grant_type"],
                forbidden: &[],
            },
            refusal: strict::Refusal::oauth(),
        },
        code_params: &[("redirect_uri", None)],
        refresh: true,
        success: |access, refresh| {
            json_answer(
                200,
                json!({"access_token": access, "expires_in": 2592000, "refresh_token": refresh, "scope": "basic", "session_key": "mock-session-key", "session_secret": "mock-session-secret"}),
            )
        },
        error: |refusal, why| {
            json_answer(
                rfc_status(refusal),
                json!({"error": rfc(refusal), "error_description": why}),
            )
        },
    }),
    user: Some(UserSpec {
        endpoint: get_user(
            "/rest/2.0/passport/users/getInfo",
            Credentials::TokenQuery("access_token"),
            &[],
            strict::Refusal::json(200, r#"{"error_code":100,"error_msg":"{why}"}"#),
        ),
        fixed: &[],
        token_param: None,
        user: || json!({"openid": "bd-open-1", "userid": "2097322476", "username": "mock_baidu", "portrait": "e2c1776c31393837313031319605", "sex": "1"}),
        // Baidu's REST errors come with HTTP 200.
        error: |refusal, why| {
            let code = if refusal == Refusal::Client { 110 } else { 100 };
            json_answer(200, json!({"error_code": code, "error_msg": why}))
        },
    }),
    authorize: Some(authorize_page("/oauth/2.0/authorize")),
};

pub(super) const LARK: Spec = Spec {
    prefix: "lk",
    token: Some(TokenSpec {
        endpoint: Endpoint {
            path: "/open-apis/authen/v2/oauth/token",
            methods: &["POST"],
            body: Body::Json,
            credentials: BODY_CREDENTIALS,
            headers: &[],
            params: Params {
                at: At::Body,
                required: &["grant_type"],
                forbidden: &[],
            },
            refusal: strict::Refusal {
                status: 400,
                content_type: "application/json",
                body: r#"{"code":20001,"error":"invalid_request","error_description":"{why}"}"#,
                overrides: &[(
                    Fault::Credentials,
                    400,
                    r#"{"code":20002,"error":"invalid_client","error_description":"{why}"}"#,
                )],
            },
        },
        code_params: &[],
        refresh: true,
        success: |access, refresh| {
            json_answer(
                200,
                json!({"code": 0, "access_token": access, "expires_in": 7200, "refresh_token": refresh, "refresh_token_expires_in": 604800, "token_type": "Bearer", "scope": ""}),
            )
        },
        error: |refusal, why| {
            let code = match refusal {
                Refusal::Client => 20002,
                Refusal::Request => 20001,
                Refusal::Grant => 20003,
            };
            json_answer(
                400,
                json!({"code": code, "error": rfc(refusal), "error_description": why}),
            )
        },
    }),
    user: Some(UserSpec {
        endpoint: get_user(
            "/open-apis/authen/v1/user_info",
            Credentials::Bearer,
            &[],
            strict::Refusal {
                status: 400,
                content_type: "application/json",
                body: r#"{"code":99991400,"msg":"{why}"}"#,
                overrides: &[(
                    Fault::Credentials,
                    400,
                    r#"{"code":99991663,"msg":"{why}"}"#,
                )],
            },
        ),
        fixed: &[],
        token_param: None,
        user: || {
            json!({"code": 0, "msg": "success",
                   "data": {"name": "Mock Lark", "en_name": "Mock Lark", "avatar_url": "https://lark.example/a.png",
                            "open_id": "ou_mock1", "union_id": "on_mock1", "email": "mock@lark.example", "tenant_key": "t1"}})
        },
        error: |refusal, why| {
            let code = if refusal == Refusal::Client {
                99991663
            } else {
                99991400
            };
            json_answer(400, json!({"code": code, "msg": why}))
        },
    }),
    authorize: Some(authorize_page("/open-apis/authen/v1/authorize")),
};

pub(super) const HUAWEI: Spec = Spec {
    prefix: "hw",
    token: Some(TokenSpec {
        endpoint: form_post(
            "/oauth2/v3/token",
            BODY_CREDENTIALS,
            strict::Refusal {
                status: 400,
                content_type: "application/json",
                body: r#"{"error":1101,"sub_error":20001,"error_description":"{why}"}"#,
                overrides: &[(
                    Fault::Credentials,
                    400,
                    r#"{"error":1102,"sub_error":20003,"error_description":"{why}"}"#,
                )],
            },
        ),
        code_params: &[("redirect_uri", None)],
        refresh: true,
        success: |access, refresh| {
            json_answer(
                200,
                json!({"access_token": access, "expires_in": 3600, "refresh_token": refresh, "scope": "openid profile", "token_type": "Bearer", "id_token": "eyJ.mock.huawei"}),
            )
        },
        // A numeric `error` with a `sub_error` (oauth-quirks.md: unsure on the status).
        error: |refusal, why| {
            let (error, sub_error) = match refusal {
                Refusal::Client => (1102, 20003),
                Refusal::Request => (1101, 20001),
                Refusal::Grant => (1101, 20152),
            };
            json_answer(
                400,
                json!({"error": error, "sub_error": sub_error, "error_description": why}),
            )
        },
    }),
    user: Some(UserSpec {
        endpoint: Endpoint {
            path: "/rest.php",
            methods: &["POST"],
            body: Body::Form,
            // The token is a form parameter, under its own name; no Authorization.
            credentials: Credentials::Params {
                id: "access_token",
                secret: None,
            },
            headers: &[],
            params: Params {
                at: At::Body,
                required: &["getNickName"],
                forbidden: &[],
            },
            refusal: strict::Refusal::json(200, r#"{"NSP_STATUS":102,"error":"{why}"}"#),
        },
        fixed: &[("nsp_svc", "GOpen.User.getInfo"), ("getNickName", "1")],
        token_param: Some("access_token"),
        user: || {
            json!({"displayName": "Mock Huawei", "headPictureURL": "https://upfile.hicloud.example/a.jpg",
                   "openID": "hw-open-1", "unionID": "hw-union-1", "email": "mock@huawei.example"})
        },
        // Failures carry NSP_STATUS, with HTTP 200.
        error: |refusal, why| {
            let status = if refusal == Refusal::Client { 6 } else { 102 };
            json_answer(200, json!({"NSP_STATUS": status, "error": why}))
        },
    }),
    authorize: Some(authorize_page("/oauth2/v3/authorize")),
};

/// The Kuaishou app id the user-info mock expects (`KUAISHOU_APP_ID`).
pub const MOCK_KUAISHOU_APP_ID: &str = "ks-app-1";

/// Kuaishou's `openapi/user_info`: a GET with the token and the app id in
/// the query; the first long tail's Kuaishou mock serves it too.
pub const KUAISHOU_USER_INFO: Endpoint = get_user(
    "/openapi/user_info",
    Credentials::TokenQuery("access_token"),
    &["app_id"],
    strict::Refusal::json(200, r#"{"result":100200101,"error_msg":"{why}"}"#),
);

/// Kuaishou's user info; its token endpoint is the first long tail's mock.
pub(super) const KUAISHOU_USER: Spec = Spec {
    prefix: "ks",
    token: None,
    user: Some(UserSpec {
        endpoint: KUAISHOU_USER_INFO,
        fixed: &[("app_id", MOCK_KUAISHOU_APP_ID)],
        token_param: None,
        user: || json!({"result": 1, "user_info": {"name": "Mock Kuaishou", "sex": "F", "head": "https://k.example/h.jpg", "bigHead": "https://k.example/H.jpg", "city": "", "fan": 1, "follow": 2}}),
        error: |refusal, why| {
            let result = if refusal == Refusal::Client {
                100200103
            } else {
                100200101
            };
            json_answer(200, json!({"result": result, "error_msg": why}))
        },
    }),
    authorize: None,
};
