//! A strict WeCom (WeChat Work) mock: `gettoken` (corp token from `corpid` and
//! `corpsecret`), `auth/getuserinfo` (and the older `user/getuserinfo`: a
//! code, once, to a member) and `user/get` (a member's details), as
//! `../shared/oauth-quirks.md` documents them. GET only, credentials in the
//! query under WeCom's names only, every failure HTTP 200 with `errcode`.
//! It counts `gettoken` calls and expires its corp tokens on demand, so a
//! test can see a cache work and a renewal happen. Its web login page
//! (`wwlogin/sso/login`) takes `login_type=CorpApp`, `appid` (the corp id)
//! and `agentid`, never `client_id`, and calls back with a fresh code.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

use crate::kinds::SeenRequest;
use crate::provider::read_request;

pub const MOCK_CORP_ID: &str = "ww-mock-corp-1";
pub const MOCK_CORP_SECRET: &str = "corpsecret-mock-4f9a2c7e";
/// A code that names the member [`MOCK_USER_ID`].
pub const MEMBER_CODE: &str = "mockcode-member";
/// A code that names a person outside the corp (an `openid`, no user id).
pub const STRANGER_CODE: &str = "mockcode-stranger";
pub const MOCK_USER_ID: &str = "zhangsan";
/// The corp app's agent id its login page wants.
pub const MOCK_AGENT_ID: &str = "1000002";
/// WeCom's web login page (login.work.weixin.qq.com).
pub const LOGIN_PAGE_PATH: &str = "/wwlogin/sso/login";
/// How long `gettoken` takes: long enough for concurrent logins to overlap.
pub const CORP_TOKEN_DELAY: Duration = Duration::from_millis(50);

/// What the mock remembers between calls.
#[derive(Default)]
pub struct WecomState {
    /// Corp tokens issued and still good.
    live_tokens: HashSet<String>,
    /// Corp tokens issued, then expired on demand.
    expired_tokens: HashSet<String>,
    /// Codes redeemed: a code works once.
    used_codes: HashSet<String>,
    pub corp_token_calls: usize,
    /// Logins the page let through, each with a code of its own.
    pages_served: usize,
    pub seen: Vec<SeenRequest>,
}

/// WeCom's failure answer.
fn error(errcode: i64, errmsg: &str) -> Value {
    json!({ "errcode": errcode, "errmsg": errmsg })
}

impl WecomState {
    /// The answer WeCom gives `request` (always HTTP 200).
    pub fn answer(&mut self, request: &SeenRequest) -> Value {
        if request.method != "GET" {
            return error(43001, "require GET method");
        }
        if !request.raw_body.is_empty() {
            return error(47001, "data format error: no body on a GET");
        }
        // Credentials travel only in the query, under WeCom's names.
        if request.header("authorization").is_some() {
            return error(41001, "access_token missing (Authorization is not read)");
        }
        for standard in ["client_id", "client_secret", "appid", "secret"] {
            if request.query_param(standard).is_some() {
                return error(40013, "invalid corpid: standard OAuth names are not read");
            }
        }
        match request.path.as_str() {
            "/cgi-bin/gettoken" => self.corp_token(request),
            "/cgi-bin/auth/getuserinfo" => self.member_of_code(request, false),
            "/cgi-bin/user/getuserinfo" => self.member_of_code(request, true),
            "/cgi-bin/user/get" => self.member(request),
            _ => error(40056, "invalid api path"),
        }
    }

    fn corp_token(&mut self, request: &SeenRequest) -> Value {
        self.corp_token_calls += 1;
        let Some(corp_id) = request.query_param("corpid") else {
            return error(41002, "corpid missing");
        };
        let Some(secret) = request.query_param("corpsecret") else {
            return error(41004, "corpsecret missing");
        };
        if corp_id != MOCK_CORP_ID {
            return error(40013, "invalid corpid");
        }
        if secret != MOCK_CORP_SECRET {
            return error(40001, "invalid credential");
        }
        let token = format!("corptoken-{}-mock", self.corp_token_calls);
        self.live_tokens.insert(token.clone());
        json!({ "errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200 })
    }

    /// `Err`: the answer refusing the query's corp token.
    fn check_corp_token(&self, request: &SeenRequest) -> Result<(), Value> {
        match request.query_param("access_token") {
            None => Err(error(41001, "access_token missing")),
            Some(t) if self.live_tokens.contains(t) => Ok(()),
            Some(t) if self.expired_tokens.contains(t) => Err(error(42001, "access_token expired")),
            Some(_) => Err(error(40014, "invalid access_token")),
        }
    }

    fn member_of_code(&mut self, request: &SeenRequest, older_path: bool) -> Value {
        if let Err(refused) = self.check_corp_token(request) {
            return refused;
        }
        let Some(code) = request.query_param("code") else {
            return error(41008, "missing oauth code");
        };
        if !code.starts_with("mockcode") || !self.used_codes.insert(code.to_owned()) {
            return error(40029, "invalid code");
        }
        match (code == STRANGER_CODE, older_path) {
            (true, _) => json!({ "errcode": 0, "errmsg": "ok", "openid": "o-stranger-1" }),
            (false, true) => {
                json!({ "errcode": 0, "errmsg": "ok", "UserId": MOCK_USER_ID, "DeviceId": "" })
            }
            (false, false) => json!({
                "errcode": 0, "errmsg": "ok", "userid": MOCK_USER_ID, "user_ticket": "ticket-mock"
            }),
        }
    }

    fn member(&mut self, request: &SeenRequest) -> Value {
        if let Err(refused) = self.check_corp_token(request) {
            return refused;
        }
        match request.query_param("userid") {
            None => error(41009, "missing userid"),
            Some(MOCK_USER_ID) => json!({
                "errcode": 0, "errmsg": "ok", "userid": MOCK_USER_ID, "name": "Zhang San",
                "avatar": "https://wework.qpic.cn/mock/0", "email": "zhangsan@corp.example"
            }),
            Some(_) => error(60111, "userid not found"),
        }
    }

    /// The login page, as if the member consented at once: the callback
    /// URL with a fresh member code and the `state` (`Err`: why the page
    /// shows an error instead).
    pub fn login_page(&mut self, request: &SeenRequest) -> Result<String, String> {
        if request.method != "GET" {
            return Err("the login page is a GET".into());
        }
        if request.query_param("client_id").is_some() {
            return Err("client_id is not read: the corp id is appid".into());
        }
        let wants = |name: &str, value: Option<&str>| match (request.query_param(name), value) {
            (None, _) => Err(format!("{name} is missing")),
            (Some(got), Some(value)) if got != value => Err(format!("{name} is not {value}")),
            _ => Ok(()),
        };
        wants("login_type", Some("CorpApp"))?;
        wants("appid", Some(MOCK_CORP_ID))?;
        wants("agentid", Some(MOCK_AGENT_ID))?;
        wants("redirect_uri", None)?;
        let redirect = request.query_param("redirect_uri").unwrap_or_default();
        self.pages_served += 1;
        let code = format!("{MEMBER_CODE}-{}", self.pages_served);
        let state = request.query_param("state").unwrap_or("");
        let join = if redirect.contains('?') { '&' } else { '?' };
        let params = serde_urlencoded::to_string([("code", code.as_str()), ("state", state)])
            .expect("text pairs encode");
        Ok(format!("{redirect}{join}{params}"))
    }

    /// Every corp token issued so far now answers 42001 (expired).
    pub fn expire_corp_tokens(&mut self) {
        self.expired_tokens.extend(self.live_tokens.drain());
    }
}

/// A running WeCom mock on loopback.
pub struct WecomMock {
    pub addr: SocketAddr,
    pub state: Arc<Mutex<WecomState>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for WecomMock {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl WecomMock {
    /// Starts on a free loopback port.
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(WecomState::default()));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    while let Some(request) = read_request(&mut stream, &mut buf).await {
                        if request.path == "/cgi-bin/gettoken" {
                            tokio::time::sleep(CORP_TOKEN_DELAY).await;
                        }
                        let answer = {
                            let mut state = state.lock().unwrap();
                            let answer = match request.path.as_str() {
                                LOGIN_PAGE_PATH => match state.login_page(&request) {
                                    Ok(location) => format!(
                                        "HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 0\r\n\r\n"
                                    ),
                                    Err(why) => format!(
                                        "HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\r\n{why}",
                                        why.len()
                                    ),
                                },
                                _ => {
                                    let body = state.answer(&request).to_string();
                                    format!(
                                        "HTTP/1.1 200 OK\r\ncontent-type: application/json; charset=UTF-8\r\ncontent-length: {}\r\n\r\n{body}",
                                        body.len()
                                    )
                                }
                            };
                            state.seen.push(request);
                            answer
                        };
                        if stream.write_all(answer.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Ok(WecomMock { addr, state, task })
    }

    pub fn corp_token_calls(&self) -> usize {
        self.state.lock().unwrap().corp_token_calls
    }

    pub fn expire_corp_tokens(&self) {
        self.state.lock().unwrap().expire_corp_tokens();
    }

    pub fn requests(&self) -> Vec<SeenRequest> {
        self.state.lock().unwrap().seen.clone()
    }

    /// How many requests carried `code`.
    pub fn code_reached(&self, code: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.query_param("code") == Some(code))
            .count()
    }
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
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            headers: Vec::new(),
            body: Vec::new(),
            raw_body: Vec::new(),
        }
    }

    fn errcode(answer: &Value) -> i64 {
        answer["errcode"].as_i64().unwrap()
    }

    fn corp_token(state: &mut WecomState) -> String {
        let answer = state.answer(&get(
            "/cgi-bin/gettoken",
            &[("corpid", MOCK_CORP_ID), ("corpsecret", MOCK_CORP_SECRET)],
        ));
        answer["access_token"].as_str().unwrap().to_owned()
    }

    #[test]
    fn the_login_page_takes_wecoms_names_only_and_gives_a_fresh_code_each_time() {
        let mut state = WecomState::default();
        let good = [
            ("login_type", "CorpApp"),
            ("appid", MOCK_CORP_ID),
            ("agentid", MOCK_AGENT_ID),
            ("redirect_uri", "https://gw.example/cb"),
            ("state", "s1"),
        ];
        let first = state.login_page(&get(LOGIN_PAGE_PATH, &good)).unwrap();
        assert_eq!(
            first,
            "https://gw.example/cb?code=mockcode-member-1&state=s1"
        );
        let second = state.login_page(&get(LOGIN_PAGE_PATH, &good)).unwrap();
        assert_ne!(first, second);
        // Each wrong variant is refused: a name left out, a wrong value, OAuth's name.
        for (i, (name, _)) in good.iter().enumerate().take(4) {
            let mut without: Vec<_> = good.to_vec();
            without.remove(i);
            assert!(
                state.login_page(&get(LOGIN_PAGE_PATH, &without)).is_err(),
                "{name}"
            );
        }
        for (name, wrong) in [
            ("login_type", "ServiceApp"),
            ("appid", "ww-other"),
            ("agentid", "1"),
        ] {
            let mut bad: Vec<_> = good.to_vec();
            bad.iter_mut().find(|(n, _)| *n == name).unwrap().1 = wrong;
            assert!(
                state.login_page(&get(LOGIN_PAGE_PATH, &bad)).is_err(),
                "{name}"
            );
        }
        let mut oauth: Vec<_> = good.to_vec();
        oauth.push(("client_id", MOCK_CORP_ID));
        assert!(state.login_page(&get(LOGIN_PAGE_PATH, &oauth)).is_err());
        let mut post = get(LOGIN_PAGE_PATH, &good);
        post.method = "POST".into();
        assert!(state.login_page(&post).is_err());
    }

    #[test]
    fn the_calls_wecom_takes_succeed() {
        let mut state = WecomState::default();
        let token = corp_token(&mut state);
        let login = [("access_token", token.as_str()), ("code", MEMBER_CODE)];
        let member = state.answer(&get("/cgi-bin/auth/getuserinfo", &login));
        assert_eq!(errcode(&member), 0);
        assert_eq!(member["userid"], MOCK_USER_ID);
        let user = [("access_token", token.as_str()), ("userid", MOCK_USER_ID)];
        let details = state.answer(&get("/cgi-bin/user/get", &user));
        assert_eq!(details["name"], "Zhang San");
        let older = [("access_token", token.as_str()), ("code", "mockcode-older")];
        let older = state.answer(&get("/cgi-bin/user/getuserinfo", &older));
        assert_eq!(older["UserId"], MOCK_USER_ID);
        assert_eq!(state.corp_token_calls, 1);
    }

    #[test]
    fn each_wrong_variant_gets_wecoms_refusal() {
        let mut state = WecomState::default();
        let token = corp_token(&mut state);
        let good = get(
            "/cgi-bin/gettoken",
            &[("corpid", MOCK_CORP_ID), ("corpsecret", MOCK_CORP_SECRET)],
        );
        let mut variants: Vec<(&str, SeenRequest, i64)> = Vec::new();
        let mut post = good.clone();
        post.method = "POST".into();
        variants.push(("POST", post, 43001));
        let mut with_body = good.clone();
        with_body.raw_body = b"corpid=x".to_vec();
        variants.push(("a body", with_body, 47001));
        let mut header = good.clone();
        header
            .headers
            .push(("authorization".into(), "Bearer x".into()));
        variants.push(("Authorization", header, 41001));
        variants.push((
            "standard names",
            get(
                "/cgi-bin/gettoken",
                &[
                    ("client_id", MOCK_CORP_ID),
                    ("client_secret", MOCK_CORP_SECRET),
                ],
            ),
            40013,
        ));
        variants.push((
            "no corpsecret",
            get("/cgi-bin/gettoken", &[("corpid", MOCK_CORP_ID)]),
            41004,
        ));
        variants.push((
            "wrong corpsecret",
            get(
                "/cgi-bin/gettoken",
                &[("corpid", MOCK_CORP_ID), ("corpsecret", "wrong")],
            ),
            40001,
        ));
        variants.push((
            "wrong corpid",
            get(
                "/cgi-bin/gettoken",
                &[("corpid", "ww-other"), ("corpsecret", MOCK_CORP_SECRET)],
            ),
            40013,
        ));
        variants.push((
            "no corp token",
            get("/cgi-bin/auth/getuserinfo", &[("code", MEMBER_CODE)]),
            41001,
        ));
        variants.push((
            "a forged corp token",
            get(
                "/cgi-bin/auth/getuserinfo",
                &[("access_token", "forged"), ("code", MEMBER_CODE)],
            ),
            40014,
        ));
        variants.push((
            "no code",
            get(
                "/cgi-bin/auth/getuserinfo",
                &[("access_token", token.as_str())],
            ),
            41008,
        ));
        variants.push((
            "a bad code",
            get(
                "/cgi-bin/auth/getuserinfo",
                &[("access_token", token.as_str()), ("code", "bad")],
            ),
            40029,
        ));
        variants.push((
            "no userid",
            get("/cgi-bin/user/get", &[("access_token", token.as_str())]),
            41009,
        ));
        variants.push((
            "an unknown userid",
            get(
                "/cgi-bin/user/get",
                &[("access_token", token.as_str()), ("userid", "nobody")],
            ),
            60111,
        ));
        for (what, request, expected) in variants {
            assert_eq!(errcode(&state.answer(&request)), expected, "{what}");
        }
    }

    #[test]
    fn a_code_works_once_and_an_expired_corp_token_answers_42001() {
        let mut state = WecomState::default();
        let token = corp_token(&mut state);
        let login = get(
            "/cgi-bin/auth/getuserinfo",
            &[("access_token", token.as_str()), ("code", MEMBER_CODE)],
        );
        assert_eq!(errcode(&state.answer(&login)), 0);
        assert_eq!(errcode(&state.answer(&login)), 40029);
        state.expire_corp_tokens();
        let user = get(
            "/cgi-bin/user/get",
            &[("access_token", token.as_str()), ("userid", MOCK_USER_ID)],
        );
        assert_eq!(errcode(&state.answer(&user)), 42001);
        let stranger = get(
            "/cgi-bin/auth/getuserinfo",
            &[
                ("access_token", corp_token(&mut state).as_str()),
                ("code", STRANGER_CODE),
            ],
        );
        let answer = state.answer(&stranger);
        assert!(answer.get("userid").is_none() && answer["openid"].is_string());
    }
}
