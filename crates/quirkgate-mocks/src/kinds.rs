//! Which provider a mock imitates, and a request as a mock received it.

pub use super::long_tail_two::TailTwo;

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
    /// Facebook's login: dialog, Graph token call and /me.
    Facebook,
    /// VK's login: oauth.vk.com authorize and token, users.get.
    Vk,
    /// A provider of the long tail, part two (`long_tail_two`).
    TailTwo(TailTwo),
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
    ("facebook", ProviderKind::Facebook),
    ("vk", ProviderKind::Vk),
    // The long tail, part two: one mock per provider serves its token and user presets.
    ("kakao", ProviderKind::TailTwo(TailTwo::Kakao)),
    ("kakao-userinfo", ProviderKind::TailTwo(TailTwo::Kakao)),
    ("naver", ProviderKind::TailTwo(TailTwo::Naver)),
    ("naver-userinfo", ProviderKind::TailTwo(TailTwo::Naver)),
    ("weibo", ProviderKind::TailTwo(TailTwo::Weibo)),
    ("weibo-userinfo", ProviderKind::TailTwo(TailTwo::Weibo)),
    ("baidu", ProviderKind::TailTwo(TailTwo::Baidu)),
    ("baidu-userinfo", ProviderKind::TailTwo(TailTwo::Baidu)),
    ("lark", ProviderKind::TailTwo(TailTwo::Lark)),
    ("lark-userinfo", ProviderKind::TailTwo(TailTwo::Lark)),
    ("huawei", ProviderKind::TailTwo(TailTwo::Huawei)),
    ("huawei-userinfo", ProviderKind::TailTwo(TailTwo::Huawei)),
    (
        "kuaishou-userinfo",
        ProviderKind::TailTwo(TailTwo::KuaishouUser),
    ),
    ("yandex", ProviderKind::TailTwo(TailTwo::Yandex)),
    ("yandex-userinfo", ProviderKind::TailTwo(TailTwo::Yandex)),
    ("mailru", ProviderKind::TailTwo(TailTwo::MailRu)),
    ("mailru-userinfo", ProviderKind::TailTwo(TailTwo::MailRu)),
    ("twitch", ProviderKind::TailTwo(TailTwo::Twitch)),
    ("discord", ProviderKind::TailTwo(TailTwo::Discord)),
    ("discord-userinfo", ProviderKind::TailTwo(TailTwo::Discord)),
    ("spotify", ProviderKind::TailTwo(TailTwo::Spotify)),
    ("spotify-userinfo", ProviderKind::TailTwo(TailTwo::Spotify)),
    ("bitbucket", ProviderKind::TailTwo(TailTwo::Bitbucket)),
    (
        "bitbucket-userinfo",
        ProviderKind::TailTwo(TailTwo::Bitbucket),
    ),
    ("fitbit", ProviderKind::TailTwo(TailTwo::Fitbit)),
    ("fitbit-userinfo", ProviderKind::TailTwo(TailTwo::Fitbit)),
    ("ebay", ProviderKind::TailTwo(TailTwo::Ebay)),
    ("ebay-userinfo", ProviderKind::TailTwo(TailTwo::Ebay)),
    ("paypal", ProviderKind::TailTwo(TailTwo::PayPal)),
    ("paypal-userinfo", ProviderKind::TailTwo(TailTwo::PayPal)),
    // The first long tail's user presets: the token preset's mock serves them.
    ("douyin-userinfo", ProviderKind::Douyin),
    ("feishu-userinfo", ProviderKind::Feishu),
    ("zoom-userinfo", ProviderKind::Zoom),
    ("pinterest-userinfo", ProviderKind::Pinterest),
    ("strava-userinfo", ProviderKind::Strava),
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
