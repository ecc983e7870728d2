//! `quirkgate --config FILE` runs the gateway; `--test` checks the file;
//! `presets [NAME]` prints the shipped presets; `mock-provider` runs a mock.

use clap::{Parser, Subcommand};

/// mimalloc measured faster than glibc malloc on the request path (README, Performance).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use pingora::server::configuration::Opt;

use quirkgate::mocks::provider::{MockProvider, ProviderKind, PROVIDER_NAMES};
use quirkgate::plan::file::{preset_description, preset_text, PRESETS};
use quirkgate::plan::Resolution;
use quirkgate::server::{build_server, load_plan};

#[derive(Parser)]
#[command(
    name = "quirkgate",
    version,
    about = "OAuth token gateway that rewrites provider quirks, on Pingora"
)]
struct Cli {
    /// The gateway's YAML configuration.
    #[arg(long, default_value = "conf/quirkgate.yaml", global = true)]
    config: String,
    /// Pingora's own options: --daemon, --upgrade, --test, --conf.
    #[command(flatten)]
    pingora: Opt,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// List the shipped presets, or print one as YAML to paste into a route.
    Presets { name: Option<String> },
    /// Run a mock provider on loopback to try the gateway without a provider app.
    MockProvider {
        #[arg(long, default_value = "tiktok")]
        provider: String,
        #[arg(long, default_value = "127.0.0.1:9000")]
        listen: String,
    },
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
                println!("{name:<18} {summary}");
            }
        }
        Some(Command::Presets { name: Some(name) }) => match preset_text(&name) {
            Some(text) => print!("{text}"),
            None => {
                eprintln!("unknown preset '{name}'; `quirkgate presets` lists them");
                std::process::exit(1);
            }
        },
        Some(Command::MockProvider { provider, listen }) => run_mock(&provider, &listen),
        None => run_gateway(cli.config, cli.pingora),
    }
}

fn run_gateway(config: String, opt: Opt) {
    quirkgate::telemetry::logging::init();
    let resolution = if opt.test {
        Resolution::Skip
    } else {
        Resolution::Now
    };
    let (file, plan) = match load_plan(&config, resolution) {
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
        println!("{config}: ok ({} route(s))", plan.route_list.len());
        return;
    }
    log::info!(
        "quirkgate {} listening on {} with {} route(s)",
        env!("CARGO_PKG_VERSION"),
        file.listen,
        plan.route_list.len()
    );
    match build_server(opt, config, file, plan) {
        Ok(server) => server.run_forever(),
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(1);
        }
    }
}

fn run_mock(provider: &str, listen: &str) {
    let Some(kind) = ProviderKind::parse(provider) else {
        let known: Vec<&str> = PROVIDER_NAMES.iter().map(|(name, _)| *name).collect();
        eprintln!("unknown provider '{provider}' ({})", known.join(", "));
        std::process::exit(1);
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let mock = MockProvider::start(kind, listen, None)
            .await
            .unwrap_or_else(|e| {
                eprintln!("cannot listen on {listen}: {e}");
                std::process::exit(1);
            });
        println!("mock {provider} provider on http://{}", mock.addr);
        std::future::pending::<()>().await;
    });
}
