//! The two-step corp login (WeCom), served from a route's own legs instead of
//! forwarding: the token leg checks a standard client's credentials against
//! the corp app's, gets the corp token from the route's cache (`corp_token`),
//! redeems the code with it and hands out a sealed token of the gateway's
//! own; the user leg opens that token and reads the member. Every call goes
//! through the gateway's exchange (pooling, timeouts, the retry policy); the
//! corp token and secret never reach the caller, a log line or a label.

mod corp_token;
mod legs;

use std::pin::Pin;

use tokio::time::Sleep;

use crate::plan::corp_login::{CorpLeg, CorpLogin};
use crate::plan::TokenRoute;
use crate::upstream::exchange::{ExchangeReport, ProviderConnector};
use quirkgate_core::http1::CallerAnswer;
use quirkgate_core::oauth_error::OAuthError;

/// What a leg works with: the route, its plan piece and the exchange's books.
pub(crate) struct CorpCall<'a> {
    pub route: &'a TokenRoute,
    pub login: &'a CorpLogin,
    pub connector: &'a ProviderConnector,
    pub report: &'a mut ExchangeReport,
    pub deadline: Pin<&'a mut Sleep>,
}

/// Answers a request to a `corp_login:` route: its form `body` (token leg)
/// or its `authorization` (user leg).
pub async fn serve(
    route: &TokenRoute,
    login: &CorpLogin,
    connector: &ProviderConnector,
    body: &[u8],
    authorization: Option<&str>,
    report: &mut ExchangeReport,
    deadline: Pin<&mut Sleep>,
) -> Result<CallerAnswer, OAuthError> {
    let mut call = CorpCall {
        route,
        login,
        connector,
        report,
        deadline,
    };
    match login.leg {
        CorpLeg::Token => legs::token(&mut call, body, authorization).await,
        CorpLeg::Userinfo => legs::userinfo(&mut call, authorization).await,
    }
}
