//! Which provider a mock imitates, and a request as a mock received it.

/// Which provider to imitate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderKind {
    TikTok,
    TikTokV1,
    TikTokUserInfo,
    WeChat,
    GitHub,
    Slack,
    Reddit,
    Notion,
    DingTalk,
    DingTalkUserInfo,
    Feishu,
    Qq,
    Douyin,
    Kuaishou,
    TwitchUserInfo,
    VkUserInfo,
    FacebookUserInfo,
    Zoom,
    Pinterest,
    LinkedIn,
    Strava,
    Line,
    X,
    Apple,
    Alipay,
    OkRu,
    Withings,
    Shopify,
    GitLab,
}

/// Every mock by the name `--provider` takes (the preset's name).
pub const PROVIDER_NAMES: &[(&str, ProviderKind)] = &[
    ("tiktok", ProviderKind::TikTok),
    ("tiktok-v1", ProviderKind::TikTokV1),
    ("tiktok-userinfo", ProviderKind::TikTokUserInfo),
    ("wechat", ProviderKind::WeChat),
    ("github", ProviderKind::GitHub),
    ("slack", ProviderKind::Slack),
    ("reddit", ProviderKind::Reddit),
    ("notion", ProviderKind::Notion),
    ("dingtalk", ProviderKind::DingTalk),
    ("dingtalk-userinfo", ProviderKind::DingTalkUserInfo),
    ("feishu", ProviderKind::Feishu),
    ("qq", ProviderKind::Qq),
    ("douyin", ProviderKind::Douyin),
    ("kuaishou", ProviderKind::Kuaishou),
    ("twitch-userinfo", ProviderKind::TwitchUserInfo),
    ("vk-userinfo", ProviderKind::VkUserInfo),
    ("facebook-userinfo", ProviderKind::FacebookUserInfo),
    ("zoom", ProviderKind::Zoom),
    ("pinterest", ProviderKind::Pinterest),
    ("linkedin", ProviderKind::LinkedIn),
    ("strava", ProviderKind::Strava),
    ("line", ProviderKind::Line),
    ("x", ProviderKind::X),
    ("apple", ProviderKind::Apple),
    ("alipay", ProviderKind::Alipay),
    ("okru", ProviderKind::OkRu),
    ("withings", ProviderKind::Withings),
    ("shopify", ProviderKind::Shopify),
    ("gitlab", ProviderKind::GitLab),
];

impl ProviderKind {
    pub fn parse(name: &str) -> Option<Self> {
        PROVIDER_NAMES
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, kind)| *kind)
    }
}

/// A request as the mock received it.
#[derive(Clone, Debug)]
pub struct SeenRequest {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<(String, String)>,
    pub raw_body: Vec<u8>,
}

impl SeenRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn body_param(&self, name: &str) -> Option<&str> {
        self.body
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
    /// The body as a JSON object, when it is one.
    pub fn json_body(&self) -> Option<serde_json::Map<String, serde_json::Value>> {
        serde_json::from_slice(&self.raw_body).ok()
    }
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}
