//! `quirkgate --config FILE` runs the gateway; `--test` checks the file;
//! `presets [NAME]` prints the shipped presets; `oidc keygen` makes the
//! bridge's keys; `auth0 connection` sets up
//! the broker's side of a route; `healthcheck` probes a running gateway (for
//! images without a shell). The mocks are a binary of their own
//! (`quirkgate-mocks`), not part of this one.

use clap::{Parser, Subcommand};

/// mimalloc measured faster than glibc malloc on the request path (benches/README.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use pingora::server::configuration::Opt;

use quirkgate::auth0::apply_connection;
use quirkgate::auth0::{build_connection, ConnectionInputs, Secret};
use quirkgate::auth0::{ManagementApi, ManagementSettings};
use quirkgate::config::load_plan;
use quirkgate::config::{compile, Resolution};
use quirkgate::config::{load_file, preset_description, preset_text, PRESETS};
use quirkgate::run::build_server;
use quirkgate::run::EdgeCertificate;

#[derive(Parser)]
#[command(
    name = "quirkgate",
    version,
    about = "OAuth token gateway that rewrites provider quirks, on Pingora"
)]
struct Cli {
    /// The gateway's YAML configuration.
    #[arg(
        short = 'c',
        long,
        default_value = "conf/quirkgate.yaml",
        global = true
    )]
    config: String,
    /// Check the configuration and exit: 0 when it would start, 1 with every error.
    #[arg(short, long)]
    test: bool,
    /// Run in the background (Pingora's daemon mode; set `pid_file` in --conf).
    #[arg(short, long)]
    daemon: bool,
    /// Take the listening sockets over from a running gateway (graceful
    /// upgrade through --conf's `upgrade_sock`), then serve.
    #[arg(short, long)]
    upgrade: bool,
    /// A Pingora server configuration (YAML) to start from: `upgrade_sock`,
    /// `pid_file`, `error_log`, grace periods.
    #[arg(long, value_name = "PINGORA_CONF")]
    conf: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// List the shipped presets, or print one as YAML to paste into a route.
    Presets {
        /// A preset's name; without it, every preset with a line about it.
        name: Option<String>,
    },
    /// Set up the identity broker's side of a route (Auth0).
    Auth0 {
        #[command(subcommand)]
        command: Auth0Command,
    },
    /// The OpenID Connect bridge's keys.
    Oidc {
        #[command(subcommand)]
        command: OidcCommand,
    },
    /// Exit 0 when URL answers 200 (a container HEALTHCHECK without a shell or curl).
    Healthcheck {
        /// The URL to probe (plain HTTP).
        #[arg(default_value = "http://127.0.0.1:9091/healthz")]
        url: String,
    },
}

#[derive(Subcommand)]
enum OidcCommand {
    /// Write a signing key (ES256; RS256 with --rsa) to DIR/oidc-signing.pem
    /// and print its kid, a fresh seal key and the `oidc:` lines that use them.
    Keygen {
        /// The directory to write the key into (made if missing).
        #[arg(long)]
        out: std::path::PathBuf,
        /// A 2048-bit RSA key (RS256) instead of P-256 (ES256).
        #[arg(long)]
        rsa: bool,
    },
}

#[derive(Subcommand)]
enum Auth0Command {
    /// Print the custom social connection a route needs; with --apply, create
    /// or update it through the Management API (AUTH0_DOMAIN, AUTH0_CLIENT_ID,
    /// AUTH0_CLIENT_SECRET).
    Connection(ConnectionArgs),
}

#[derive(clap::Args)]
struct ConnectionArgs {
    /// The route's path (or alias) in the config file.
    #[arg(long)]
    route: String,
    /// The gateway's public base URL, as Auth0 reaches it (https://…).
    #[arg(long)]
    gateway_url: String,
    /// The connection's name; the route's preset name by default.
    #[arg(long)]
    name: Option<String>,
    /// The provider app's client id (TikTok's Client Key).
    #[arg(long)]
    client_id: String,
    /// The environment variable holding the provider app's client secret
    /// (read only with --apply; printed as ${NAME}).
    #[arg(long, default_value = "PROVIDER_CLIENT_SECRET")]
    client_secret_env: String,
    /// Create or update the connection in the tenant, printing what changes first.
    #[arg(long)]
    apply: bool,
    /// Also enable the connection for these applications (client ids); needs --apply.
    #[arg(long, num_args = 1.., requires = "apply")]
    enable_client: Vec<String>,
}

fn main() {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Presets { name: None }) => {
            for (name, _) in PRESETS {
                let description = preset_description(name);
                let summary = description
                    .split(". ")
                    .next()
                    .unwrap_or("")
                    .trim_end_matches('.');
                print_out(&format!("{name:<18} {summary}\n"));
            }
        }
        Some(Command::Presets { name: Some(name) }) => match preset_text(&name) {
            Some(text) => print_out(text),
            None => {
                eprintln!("unknown preset '{name}'; `quirkgate presets` lists them");
                std::process::exit(1);
            }
        },
        Some(Command::Auth0 {
            command: Auth0Command::Connection(args),
        }) => {
            if let Err(error) = run_auth0_connection(&cli.config, args) {
                eprintln!("error: {error}");
                std::process::exit(1);
            }
        }
        Some(Command::Oidc {
            command: OidcCommand::Keygen { out, rsa },
        }) => match oidc_keygen(&out, rsa) {
            Ok(text) => print_out(&text),
            Err(error) => {
                eprintln!("error: {error}");
                std::process::exit(1);
            }
        },
        Some(Command::Healthcheck { url }) => match healthcheck(&url) {
            Ok(()) => {}
            Err(error) => {
                eprintln!("unhealthy: {error}");
                std::process::exit(1);
            }
        },
        None => run_gateway(
            cli.config,
            Opt {
                upgrade: cli.upgrade,
                daemon: cli.daemon,
                nocapture: false,
                test: cli.test,
                conf: cli.conf,
            },
        ),
    }
}

/// Writes to standard output; a reader that closed the pipe (`| head`) ends
/// the process quietly with status 0, as `grep` and `rg` do.
fn print_out(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(error) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: standard output: {error}");
        std::process::exit(1);
    }
}

fn run_gateway(config: String, opt: Opt) {
    quirkgate::run::init_logging();
    let resolution = if opt.test {
        Resolution::Skip
    } else {
        Resolution::Now
    };
    let loaded = load_plan(&config, resolution).and_then(|(file, plan)| {
        // `--test` promises what a start would find: the edge certificate too.
        match (&file.tls, opt.test) {
            (Some(files), true) => EdgeCertificate::load(files)
                .map(|_| (file, plan))
                .map_err(|e| vec![format!("tls: {e}")]),
            _ => Ok((file, plan)),
        }
    });
    let (file, plan) = match loaded {
        Ok(loaded) => loaded,
        Err(errors) => {
            for error in &errors {
                eprintln!("error: {error}");
            }
            eprintln!("{config}: {} error(s); not started", errors.len());
            std::process::exit(1);
        }
    };
    if opt.test {
        println!(
            "{config}: ok ({} route(s){})",
            plan.route_list.len(),
            bridges_note(&file)
        );
        return;
    }
    log::info!(
        "quirkgate {} listening on {} with {} route(s){}",
        env!("CARGO_PKG_VERSION"),
        file.listen,
        plan.route_list.len(),
        bridges_note(&file)
    );
    match build_server(opt, config, file, plan) {
        Ok(server) => server.run_forever(),
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(1);
        }
    }
}

/// `, 1 OpenID Connect bridge(s)` when the file has any.
fn bridges_note(file: &quirkgate::config::GatewayFile) -> String {
    match file.oidc.len() {
        0 => String::new(),
        n => format!(", {n} OpenID Connect bridge(s)"),
    }
}

fn run_auth0_connection(config: &str, args: ConnectionArgs) -> Result<(), String> {
    let file = load_file(config).map_err(|e| e.to_string())?;
    compile(&file, Resolution::Skip).map_err(|errors| {
        format!(
            "{config}: {} (and {} more error(s))",
            errors[0],
            errors.len() - 1
        )
    })?;
    let text = std::fs::read_to_string(config).map_err(|e| format!("{config}: {e}"))?;
    let raw: serde_yaml::Value =
        serde_yaml::from_str(&text).map_err(|e| format!("{config}: {e}"))?;
    let secret_value = if args.apply {
        let value = std::env::var(&args.client_secret_env)
            .ok()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                format!(
                    "{} is not set: --apply needs the provider app's client secret",
                    args.client_secret_env
                )
            })?;
        Some(value)
    } else {
        // Printing never needs the secret: its variable's name stands in.
        None
    };
    let connection = build_connection(&ConnectionInputs {
        file: &file,
        raw_file: &raw,
        route_path: &args.route,
        gateway_url: &args.gateway_url,
        name: args.name.as_deref(),
        client_id: &args.client_id,
        client_secret: Secret::from_env(&args.client_secret_env, secret_value),
    })?;
    if !args.gateway_url.starts_with("https://") {
        eprintln!("warning: Auth0 sends client secrets and codes to the Token URL; use an https:// gateway URL outside tests");
    }
    if !args.apply {
        let printed = serde_json::to_string_pretty(&connection.printable()).expect("JSON");
        print_out(&format!("{printed}\n"));
        return Ok(());
    }
    let settings = ManagementSettings::from_env(&|name| std::env::var(name).ok())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    runtime.block_on(async {
        let api = ManagementApi::connect(&settings).await?;
        apply_connection(&api, &connection, &args.enable_client, &mut |line| {
            print_out(&format!("{line}\n"))
        })
        .await
    })
}

/// `GET url` over plain HTTP/1.1; `Ok` only for a 200 answer.
fn healthcheck(url: &str) -> Result<(), String> {
    use std::io::{Read, Write};
    use std::net::{TcpStream, ToSocketAddrs};
    use std::time::Duration;
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url}: only http:// URLs"))?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let address = authority
        .to_socket_addrs()
        .map_err(|e| format!("{authority}: {e}"))?
        .next()
        .ok_or_else(|| format!("{authority}: no address"))?;
    let timeout = Duration::from_secs(3);
    let mut stream =
        TcpStream::connect_timeout(&address, timeout).map_err(|e| format!("{url}: {e}"))?;
    stream.set_read_timeout(Some(timeout)).ok();
    stream.set_write_timeout(Some(timeout)).ok();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| format!("{url}: {e}"))?;
    let mut head = [0u8; 64];
    let n = stream.read(&mut head).map_err(|e| format!("{url}: {e}"))?;
    let status_line = String::from_utf8_lossy(&head[..n]);
    let status = status_line.split(' ').nth(1).unwrap_or("");
    if status == "200" {
        Ok(())
    } else {
        Err(format!(
            "{url}: status {}",
            if status.is_empty() { "missing" } else { status }
        ))
    }
}

/// `oidc keygen`: a PKCS#8 signing key with a random kid, and a seal key.
fn oidc_keygen(out: &std::path::Path, rsa: bool) -> Result<String, String> {
    use base64::Engine;
    use ring::rand::{SecureRandom, SystemRandom};
    let random = SystemRandom::new();
    let (pem, algorithm) = if rsa {
        use rsa::pkcs8::EncodePrivateKey;
        let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)
            .map_err(|e| format!("RSA key generation: {e}"))?;
        let pem = key
            .to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
            .map_err(|e| format!("RSA key encoding: {e}"))?;
        (pem.to_string(), "RS256")
    } else {
        let der = ring::signature::EcdsaKeyPair::generate_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &random,
        )
        .map_err(|_| "P-256 key generation failed".to_owned())?;
        let body = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|line| std::str::from_utf8(line).expect("base64 is ASCII"))
            .collect();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            lines.join("\n")
        );
        (pem, "ES256")
    };
    let mut bytes = [0u8; 38];
    random
        .fill(&mut bytes)
        .map_err(|_| "the system random source failed".to_owned())?;
    let (kid_bytes, seal) = bytes.split_at(6);
    let kid = format!(
        "{}-{}",
        algorithm.to_ascii_lowercase(),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(kid_bytes)
    );
    let seal = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(seal);
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let path = out.join("oidc-signing.pem");
    write_private(&path, pem.as_bytes()).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(format!(
        "# wrote {path} ({algorithm}, kid {kid}); keep the seal key secret, e.g. in OIDC_SEAL_KEY\n\
         export OIDC_SEAL_KEY={seal}\n\
         # in the oidc: block\n\
         #   signing_keys: [{{ kid: {kid}, key_file: \"{path}\", algorithm: {algorithm} }}]\n\
         #   seal_keys: [\"${{OIDC_SEAL_KEY}}\"]\n",
        path = path.display()
    ))
}

/// A new file only its owner may read.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)
}
