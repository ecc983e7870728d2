//! QQ Connect's user calls (`oauth-quirks.md`, "QQ Connect"): `/oauth2.0/me`
//! names the user of a token (JSONP unless `fmt=json`; `unionid` only with
//! `unionid=1`), and `/user/get_user_info` reads the user, wanting the app id
//! as `oauth_consumer_key` and that open id; its errors are `ret` ≠ 0 in an
//! HTTP 200. The strict table (`endpoints.rs`) has checked the request's
//! shape; this is what the provider answers an accepted one.

use serde_json::{json, Value};

use super::kinds::SeenRequest;

/// The app id `/oauth2.0/me` says a mock token was issued to, and the only
/// `oauth_consumer_key` `get_user_info` takes with it.
pub const MOCK_QQ_APP_ID: &str = "101000001";
/// The user every mock token belongs to.
pub const MOCK_QQ_OPENID: &str = "qq-openid-1";
pub const MOCK_QQ_UNIONID: &str = "qq-union-1";
pub const MOCK_QQ_NICKNAME: &str = "Mock QQ User";

type Answer = (u16, &'static str, String);

/// A token the token endpoint issued (`qq.<code>`); any other is refused.
fn issued_token(request: &SeenRequest) -> bool {
    request
        .query_param("access_token")
        .is_some_and(|token| token.starts_with("qq.") && token.len() > 3)
}

/// `callback( {...} );` unless the caller asked for `fmt=json`.
fn me_answer(request: &SeenRequest, value: Value) -> Answer {
    let body = if request.query_param("fmt") == Some("json") {
        value.to_string()
    } else {
        format!("callback( {value} );\n")
    };
    (200, "text/html", body)
}

/// `GET /oauth2.0/me?access_token=…[&unionid=1][&fmt=json]`.
pub fn me(request: &SeenRequest) -> Answer {
    if !issued_token(request) {
        return me_answer(
            request,
            json!({"error": 100016, "error_description": "access token check failed"}),
        );
    }
    let mut user = json!({"client_id": MOCK_QQ_APP_ID, "openid": MOCK_QQ_OPENID});
    if request.query_param("unionid") == Some("1") {
        user["unionid"] = MOCK_QQ_UNIONID.into();
    }
    me_answer(request, user)
}

/// `GET /user/get_user_info?access_token=…&oauth_consumer_key=…&openid=…`.
pub fn user(request: &SeenRequest) -> Answer {
    let refused = |ret: i64, msg: &str| {
        (
            200,
            "application/json",
            json!({"ret": ret, "msg": msg}).to_string(),
        )
    };
    if !issued_token(request) {
        return refused(100016, "access token check failed");
    }
    if request.query_param("oauth_consumer_key") != Some(MOCK_QQ_APP_ID) {
        return refused(
            -1,
            "client request's parameters are invalid, invalid oauth_consumer_key",
        );
    }
    if request.query_param("openid") != Some(MOCK_QQ_OPENID) {
        return refused(
            -1,
            "client request's parameters are invalid, invalid openid",
        );
    }
    let user = json!({
        "ret": 0,
        "msg": "",
        "is_lost": 0,
        "nickname": MOCK_QQ_NICKNAME,
        "gender": "男",
        "figureurl_qq_1": "https://thirdqq.qlogo.cn/mock/40",
        "figureurl_qq_2": "https://thirdqq.qlogo.cn/mock/100",
    });
    (200, "application/json", user.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str, query: &[(&str, &str)]) -> SeenRequest {
        SeenRequest {
            method: "GET".into(),
            path: path.into(),
            query: query
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            headers: vec![],
            body: vec![],
            raw_body: vec![],
        }
    }

    #[test]
    fn me_answers_jsonp_unless_asked_for_json_and_the_union_id_only_when_asked() {
        let (_, _, jsonp) = me(&get("/oauth2.0/me", &[("access_token", "qq.c1")]));
        assert!(
            jsonp.starts_with("callback( {") && jsonp.ends_with(" );\n"),
            "{jsonp}"
        );
        assert!(!jsonp.contains("unionid"));
        let (status, _, json) = me(&get(
            "/oauth2.0/me",
            &[("access_token", "qq.c1"), ("unionid", "1"), ("fmt", "json")],
        ));
        let json: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(status, 200);
        assert_eq!(
            (
                json["openid"].as_str(),
                json["unionid"].as_str(),
                json["client_id"].as_str()
            ),
            (
                Some(MOCK_QQ_OPENID),
                Some(MOCK_QQ_UNIONID),
                Some(MOCK_QQ_APP_ID)
            )
        );
        let (_, _, refused) = me(&get(
            "/oauth2.0/me",
            &[("access_token", "other"), ("fmt", "json")],
        ));
        assert_eq!(
            serde_json::from_str::<Value>(&refused).unwrap()["error"],
            100016
        );
    }

    #[test]
    fn get_user_info_wants_the_app_id_and_the_open_id_of_the_token() {
        let ok = [
            ("access_token", "qq.c1"),
            ("oauth_consumer_key", MOCK_QQ_APP_ID),
            ("openid", MOCK_QQ_OPENID),
        ];
        let ret = |query: &[(&str, &str)]| {
            let (status, _, body) = user(&get("/user/get_user_info", query));
            assert_eq!(status, 200, "QQ answers its errors with HTTP 200");
            serde_json::from_str::<Value>(&body).unwrap()["ret"].clone()
        };
        assert_eq!(ret(&ok), 0);
        assert_eq!(ret(&[ok[0], ("oauth_consumer_key", "ck_other"), ok[2]]), -1);
        assert_eq!(ret(&[ok[0], ok[1], ("openid", "someone-else")]), -1);
        assert_eq!(ret(&[("access_token", "expired"), ok[1], ok[2]]), 100016);
    }
}
