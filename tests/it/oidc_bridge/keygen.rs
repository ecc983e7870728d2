//! `quirkgate oidc keygen`: the key it writes and the seal key it prints
//! make a bridge that `--test` accepts, for ES256 and RS256.

use std::process::Command;

use super::*;

#[test]
fn keygen_output_loads_as_a_bridges_keys() {
    for rsa in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_quirkgate"));
        command.args(["oidc", "keygen", "--out"]).arg(dir.path());
        if rsa {
            command.arg("--rsa");
        }
        let output = command.output().unwrap();
        assert!(output.status.success(), "{output:?}");
        let printed = String::from_utf8(output.stdout).unwrap();
        let seal = printed
            .lines()
            .find_map(|l| l.strip_prefix("export OIDC_SEAL_KEY="))
            .unwrap();
        let signing = printed
            .lines()
            .find_map(|l| l.strip_prefix("#   signing_keys: "))
            .unwrap();
        let algorithm = if rsa { "RS256" } else { "ES256" };
        assert!(signing.contains(algorithm), "{signing}");
        let path = dir.path().join("oidc-signing.pem");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let config = format!(
            "routes:\n{}{}oidc:\n  - issuer: \"https://gw.example/oidc/tiktok\"\n    token_route: /token/tiktok\n    userinfo_route: /userinfo/tiktok\n    signing_keys: {signing}\n    seal_keys: [\"${{OIDC_SEAL_KEY}}\"]\n    redirect_uris: [\"{BROKER_CALLBACK}\"]\n",
            route("/token/tiktok", "tiktok", "http://127.0.0.1:9/", ""),
            route("/userinfo/tiktok", "tiktok-userinfo", "http://127.0.0.1:9/", ""),
        );
        let file = dir.path().join("q.yaml");
        std::fs::write(&file, config).unwrap();
        let checked = Command::new(env!("CARGO_BIN_EXE_quirkgate"))
            .arg("--config")
            .arg(&file)
            .arg("--test")
            .env("OIDC_SEAL_KEY", seal)
            .output()
            .unwrap();
        assert!(checked.status.success(), "{algorithm}: {checked:?}");
        // A seal key that is not 32 bytes is refused, so the printed one is what loaded.
        let refused = Command::new(env!("CARGO_BIN_EXE_quirkgate"))
            .arg("--config")
            .arg(&file)
            .arg("--test")
            .env("OIDC_SEAL_KEY", &seal[1..])
            .output()
            .unwrap();
        assert!(!refused.status.success());
    }
}
