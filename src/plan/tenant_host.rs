//! Per-tenant hosts from configuration (a Shopify shop, a self-managed
//! GitLab): a preset's upstream is built from `${VAR}`s at load, and when
//! the preset names the host it must have (`upstream_host: "*.myshopify.com"`),
//! a value that would move the request elsewhere is refused here. Nothing a
//! caller sends is ever part of an upstream URL: an upstream host chosen by
//! request data would be an open relay.

use crate::plan::error::{ConfigError, ConfigErrorKind, KeyPath};
use crate::plan::upstream::UpstreamTarget;

/// Whether `host` is what `pattern` allows: the exact host, or with
/// `*.suffix` one DNS label (letters, digits, hyphens) before the suffix.
pub(crate) fn host_matches(pattern: &str, host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .strip_suffix(&suffix.to_ascii_lowercase())
            .and_then(|label| label.strip_suffix('.'))
            .is_some_and(is_dns_label),
        None => host == pattern.to_ascii_lowercase(),
    }
}

fn is_dns_label(label: &str) -> bool {
    (1..=63).contains(&label.len())
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

/// The preset's own upstream (the route wrote none) must have the host its
/// preset names.
pub(crate) fn check_tenant_host(
    pattern: Option<&str>,
    route_upstream: Option<&str>,
    target: &UpstreamTarget,
) -> Result<(), ConfigError> {
    match pattern {
        Some(pattern) if route_upstream.is_none() && !host_matches(pattern, &target.host) => {
            Err(ConfigError::new(
                KeyPath::key("upstream"),
                ConfigErrorKind::TenantHost {
                    host: target.host.clone(),
                    pattern: pattern.to_owned(),
                },
            ))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_label_before_the_suffix_and_nothing_else() {
        for host in ["shop1.myshopify.com", "My-Shop.MyShopify.com"] {
            assert!(host_matches("*.myshopify.com", host), "{host}");
        }
        for host in [
            "myshopify.com",
            ".myshopify.com",
            "a.b.myshopify.com",
            "evil.com",
            "evilmyshopify.com",
            "-shop.myshopify.com",
            "shop_1.myshopify.com",
        ] {
            assert!(!host_matches("*.myshopify.com", host), "{host}");
        }
        assert!(host_matches("gitlab.com", "GitLab.com"));
        assert!(!host_matches("gitlab.com", "gitlab.com.evil"));
    }

    #[test]
    fn only_the_presets_own_upstream_is_held_to_its_host() {
        let target = |url: &str| UpstreamTarget::parse(url).unwrap();
        let shop = target("https://shop1.myshopify.com/admin/oauth/access_token");
        assert!(check_tenant_host(Some("*.myshopify.com"), None, &shop).is_ok());
        // `${SHOPIFY_SHOP}` = "evil.example/x?" makes this URL.
        let steered = target("https://evil.example/x?.myshopify.com/admin/oauth/access_token");
        let error = check_tenant_host(Some("*.myshopify.com"), None, &steered).unwrap_err();
        assert!(error.to_string().contains("evil.example"), "{error}");
        // An upstream the operator wrote on the route is theirs (a mock, a proxy).
        assert!(check_tenant_host(
            Some("*.myshopify.com"),
            Some("http://127.0.0.1:1/"),
            &steered
        )
        .is_ok());
        assert!(check_tenant_host(None, None, &steered).is_ok());
    }
}
