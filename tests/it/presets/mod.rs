//! Every shipped preset end to end: a standard OAuth 2.0 client (the `oauth2`
//! crate) through the real gateway binary to the matching mock provider, and
//! the `quirkgate presets` command whose output can be pasted as a route.

mod command;
mod github_slack_reddit;
mod one_file;
mod tiktok;
mod wechat;

use std::collections::BTreeMap;

use crate::support::*;
use oauth2::basic::BasicTokenType;
use oauth2::{AuthType, TokenResponse};

fn params(list: &[(String, String)]) -> BTreeMap<String, String> {
    list.iter().cloned().collect()
}

fn url_decode(text: &str) -> String {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&format!("x={text}")).unwrap();
    pairs[0].1.clone()
}

pub(crate) fn quirkgate(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_quirkgate"))
        .args(args)
        .output()
        .unwrap()
}
