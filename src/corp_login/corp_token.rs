//! The route's corp token: cached, fetched by one caller at a time (the
//! others wait for it), dropped when WeCom calls it invalid. A failed
//! `gettoken` caches nothing.

use std::time::Instant;

use bytes::Bytes;

use super::CorpCall;
use crate::plan::corp_login::CorpTokens;
use crate::upstream::exchange::exchange;
use quirkgate_core::http1::encode::{encode_request, ProviderRequest};
use quirkgate_core::oauth_error::OAuthError;
use quirkgate_core::oauth_error::Reason;
use quirkgate_core::rules::two_step::wecom::{corp_token_answer, WecomCall, WecomRefusal};
use quirkgate_core::rules::two_step::{CorpToken, Lease};

const USER_AGENT: &str = concat!("quirkgate/", env!("CARGO_PKG_VERSION"));

/// Wakes the waiters when the fetch ends, whichever way it ends.
struct WakeWaiters<'a>(&'a CorpTokens);

impl Drop for WakeWaiters<'_> {
    fn drop(&mut self) {
        self.0.fetched.notify_waiters();
    }
}

impl CorpCall<'_> {
    /// A corp token good for now: the cached one, or a new one.
    pub async fn corp_token(&mut self) -> Result<CorpToken, OAuthError> {
        let login = self.login;
        let tokens = &login.corp_tokens;
        loop {
            match tokens.cache.lease(Instant::now()) {
                Lease::Cached(token) => return Ok(token),
                Lease::Wait { generation } => {
                    let fetched = tokens.fetched.notified();
                    tokio::pin!(fetched);
                    fetched.as_mut().enable();
                    if tokens.cache.generation() == generation {
                        fetched.await;
                    }
                }
                Lease::Fetch(fetch) => {
                    let _wake = WakeWaiters(tokens);
                    let body = self
                        .wecom_get(
                            &login.corp_token_path,
                            &[
                                ("corpid", login.corp_id.as_str()),
                                ("corpsecret", login.corp_secret()),
                            ],
                            Some("client_credentials"),
                        )
                        .await?;
                    let (value, lifetime) = corp_token_answer(&body)
                        .map_err(|refusal| refusal.to_oauth_error(WecomCall::CorpToken))?;
                    return Ok(fetch.complete(value, lifetime, Instant::now()));
                }
            }
        }
    }

    /// Drops a token WeCom refused and fetches another (once per call).
    pub async fn renew_corp_token(&mut self, refused: &CorpToken) -> Result<CorpToken, OAuthError> {
        self.login.corp_tokens.cache.forget(refused);
        self.corp_token().await
    }

    /// One GET to WeCom at `path` with `query`: the answer's body, when HTTP 200.
    /// `grant` says whether it may be sent again after a full write (see `retry_after_send`).
    pub async fn wecom_get(
        &mut self,
        path: &str,
        query: &[(&str, &str)],
        grant: Option<&str>,
    ) -> Result<Bytes, OAuthError> {
        let route = self.route;
        let target = &route.provider.upstream;
        let query = serde_urlencoded::to_string(query).expect("text pairs always encode");
        let wire = encode_request(&ProviderRequest {
            method: "GET",
            path,
            url_query: &target.query,
            rules_query: &query,
            authority: &target.authority,
            body: None,
            content_type: "",
            headers: &[],
            user_agent: USER_AGENT,
        })
        .map_err(|why| OAuthError::invalid_request(why, Reason::Malformed))?;
        let answer = exchange(
            route,
            self.connector,
            &wire.into(),
            grant,
            self.report,
            self.deadline.as_mut(),
        )
        .await?;
        if answer.status != 200 {
            return Err(OAuthError::new(
                502,
                "server_error",
                "WeCom answered with an HTTP error",
                Reason::ProviderError,
            ));
        }
        Ok(answer.body)
    }
}

/// A refusal that means "this corp token is no good": the caller renews it.
pub fn corp_token_refused(refusal: &WecomRefusal) -> bool {
    *refusal == WecomRefusal::CorpTokenRefused
}
