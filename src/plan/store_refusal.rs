//! Why a `store:` block (or a `rate_limit.scope` that needs one) is refused:
//! what is wrong at the key the load error names.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreRefusal {
    /// `urls: []`.
    NoUrls,
    /// A scheme other than redis and rediss.
    Scheme(String),
    /// A `#fragment` (such as `#insecure`): TLS is always verified.
    Fragment,
    /// `user:password@` in a URL.
    CredentialsInUrl,
    /// A URL the client refuses (its reason).
    NotAStoreUrl(String),
    /// `ca_file` without a `rediss://` URL.
    CaFileWithoutTls(String),
    /// A `ca_file` that cannot be read (the path and the reason).
    CaFileUnreadable { path: String, why: String },
    /// `pool_size` outside `1..=max`.
    PoolSize { max: usize },
    /// A zero timeout.
    ZeroTimeout,
    /// Sentinel mode without `master_name`.
    MasterNameMissing,
    /// `master_name` outside sentinel mode.
    MasterNameUnused,
    /// Several URLs in standalone mode.
    StandaloneTakesOneUrl,
    /// `scope: fleet` with no `store:` block.
    FleetNeedsStore,
}

impl fmt::Display for StoreRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoUrls => f.write_str("at least one URL"),
            Self::Scheme(scheme) => {
                write!(f, "'{scheme}://': a store URL is redis:// or rediss://")
            }
            Self::Fragment => f.write_str("a store URL has no #fragment (TLS is always verified)"),
            Self::CredentialsInUrl => f.write_str(
                "the user and password go in username: and password: (from ${VAR}s), not in the URL",
            ),
            Self::NotAStoreUrl(why) => write!(f, "not a store URL: {why}"),
            Self::CaFileWithoutTls(path) => {
                write!(f, "{path}: only rediss:// URLs use a ca_file")
            }
            Self::CaFileUnreadable { path, why } => write!(f, "{path}: {why}"),
            Self::PoolSize { max } => write!(f, "between 1 and {max}"),
            Self::ZeroTimeout => f.write_str("must be more than 0"),
            Self::MasterNameMissing => f.write_str("sentinel mode names the master"),
            Self::MasterNameUnused => f.write_str("only sentinel mode names a master"),
            Self::StandaloneTakesOneUrl => f.write_str(
                "standalone mode takes one URL (several are for sentinel or cluster mode)",
            ),
            Self::FleetNeedsStore => f.write_str("fleet counts in the store: add a store: block"),
        }
    }
}
