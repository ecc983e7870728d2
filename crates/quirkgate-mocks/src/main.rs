//! `quirkgate-mocks`: the mock providers and the mock Auth0 Management API on
//! loopback, to try the gateway without a provider app or a tenant. Not part
//! of the gateway's binary or image.

use clap::{Parser, Subcommand};
use quirkgate_mocks::auth0::MockManagementApi;
use quirkgate_mocks::provider::{MockProvider, ProviderKind, PROVIDER_NAMES};

#[derive(Parser)]
#[command(
    name = "quirkgate-mocks",
    version,
    about = "Mock OAuth providers and a mock Auth0 Management API, for trying quirkgate"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve a mock provider that refuses what the real one refuses.
    Provider {
        /// Which provider to imitate (`quirkgate-mocks list` names them).
        #[arg(long, default_value = "tiktok")]
        provider: String,
        /// The loopback address to listen on.
        #[arg(long, default_value = "127.0.0.1:9000")]
        listen: String,
    },
    /// Serve a mock Auth0 Management API, to try `quirkgate auth0 connection --apply`.
    Auth0 {
        /// The loopback address to listen on.
        #[arg(long, default_value = "127.0.0.1:9001")]
        listen: String,
        /// The tenant domain the mock plays.
        #[arg(long, default_value = "tenant.example.auth0.com")]
        domain: String,
    },
    /// List the providers a mock can imitate.
    List,
}

fn main() {
    match Cli::parse().command {
        Command::Provider { provider, listen } => run_provider(&provider, &listen),
        Command::Auth0 { listen, domain } => run_auth0(&listen, &domain),
        Command::List => {
            for (name, _) in PROVIDER_NAMES {
                println!("{name}");
            }
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn cannot_listen(listen: &str, error: std::io::Error) -> ! {
    eprintln!("cannot listen on {listen}: {error}");
    std::process::exit(1);
}

fn run_provider(provider: &str, listen: &str) {
    let Some(kind) = ProviderKind::parse(provider) else {
        let known: Vec<&str> = PROVIDER_NAMES.iter().map(|(name, _)| *name).collect();
        eprintln!("unknown provider '{provider}' ({})", known.join(", "));
        std::process::exit(1);
    };
    runtime().block_on(async {
        let mock = MockProvider::start(kind, listen, None)
            .await
            .unwrap_or_else(|e| cannot_listen(listen, e));
        println!("mock {provider} provider on http://{}", mock.addr);
        // The providers whose whole login the mock plays (for the OpenID Connect bridge).
        let login = match kind {
            ProviderKind::TikTok => Some(("/v2/auth/authorize/", "/v2/oauth/token/", "/v2/user/info/")),
            ProviderKind::WeChat => Some(("/connect/qrconnect", "/sns/oauth2/access_token", "/sns/userinfo")),
            ProviderKind::GitHub => Some(("/login/oauth/authorize", "/login/oauth/access_token", "/user")),
            _ => None,
        };
        if let Some((authorize, token, user)) = login {
            println!(
                "  authorize page (consents at once; a scope with mock.deny declines): {authorize}\n  token: {token}\n  user: {user}"
            );
        }
        std::future::pending::<()>().await;
    });
}

fn run_auth0(listen: &str, domain: &str) {
    runtime().block_on(async {
        let mock = MockManagementApi::start(listen, domain, "mock-m2m-client", "mock-m2m-secret")
            .await
            .unwrap_or_else(|e| cannot_listen(listen, e));
        println!(
            "mock Auth0 Management API for {domain} on {}\n  AUTH0_DOMAIN={domain} AUTH0_MANAGEMENT_URL={} AUTH0_CLIENT_ID=mock-m2m-client AUTH0_CLIENT_SECRET=mock-m2m-secret",
            mock.base_url(),
            mock.base_url()
        );
        std::future::pending::<()>().await;
    });
}
