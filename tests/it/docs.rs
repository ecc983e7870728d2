//! The documents cannot drift from the code: every YAML block of `README.md`,
//! `docs/*.md` and `benches/README.md` goes through the real binary's
//! `--config FILE --test`, which must exit 0.
//!
//! The convention (docs/development.md, "Tests"):
//! - a block fenced ```` ```yaml ```` is a whole configuration file;
//! - ```` ```yaml route ```` is one entry of `routes:`, checked wrapped in `routes:`;
//! - any other info string starting with `yaml` or `yml` fails, so that no
//!   block escapes the check by its spelling.
//!
//! Each `${VAR}` a block names, or that a preset it names reads, gets a
//! harmless value (`…_URL` a loopback URL, `…_FILE` a key file, `…SEAL_KEY…`
//! 64 hex digits, anything else `placeholder`); a `${VAR:-default}` is left
//! unset, so that the default is what is checked. Files a block names under
//! `/etc/quirkgate/` are made in a temporary directory: `.pem`, `.p8` and
//! `.key` files hold a P-256 key, `.crt` files a certificate for it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Where documented files live; the test makes them in a directory of its own.
const DOCUMENTED_DIR: &str = "/etc/quirkgate/";

/// One fenced block of a document.
struct Block {
    /// The document, relative to the repository's root.
    doc: String,
    /// The line of the opening fence (1-based).
    line: usize,
    /// The fence's info string (`yaml`, `yaml route`, `sh`, …).
    info: String,
    text: String,
}

/// How a YAML block is checked.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    /// A whole configuration file.
    File,
    /// One entry of `routes:`.
    Route,
}

/// `Ok(None)` for a block that is not YAML; `Err` for a YAML info string
/// outside the convention.
fn kind(info: &str) -> Result<Option<Kind>, String> {
    let lower = info.to_ascii_lowercase();
    if !(lower.starts_with("yaml") || lower.starts_with("yml")) {
        return Ok(None);
    }
    match lower.split_whitespace().collect::<Vec<_>>().as_slice() {
        ["yaml"] => Ok(Some(Kind::File)),
        ["yaml", "route"] => Ok(Some(Kind::Route)),
        _ => Err(format!(
            "info string {info:?}: a YAML block is fenced ```yaml (a whole file) or ```yaml route (one route)"
        )),
    }
}

/// README.md, docs/*.md (sorted) and benches/README.md.
fn documents() -> Vec<PathBuf> {
    let root = Path::new(ROOT);
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/ exists")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    docs.sort();
    assert!(!docs.is_empty(), "no document in docs/");
    docs.insert(0, root.join("README.md"));
    docs.push(root.join("benches/README.md"));
    docs
}

/// The length of the backtick fence `line` opens with, if it is one.
fn fence(line: &str) -> Option<usize> {
    let ticks = line.len() - line.trim_start_matches('`').len();
    (ticks >= 3).then_some(ticks)
}

fn leading_spaces(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// Every fenced block of `text`, indented ones (in list items) included,
/// with the fence's indentation taken off its lines.
fn fenced_blocks(doc: &str, text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((index, line)) = lines.next() {
        let indent = leading_spaces(line);
        let Some(ticks) = fence(&line[indent..]) else {
            continue;
        };
        let info = line[indent + ticks..].trim().to_owned();
        let mut body = String::new();
        let mut closed = false;
        for (_, inner) in lines.by_ref() {
            let trimmed = inner.trim();
            if fence(trimmed).is_some_and(|n| n >= ticks) && trimmed.trim_matches('`').is_empty() {
                closed = true;
                break;
            }
            body.push_str(&inner[leading_spaces(inner).min(indent)..]);
            body.push('\n');
        }
        assert!(
            closed,
            "{doc}:{}: a code fence that is never closed",
            index + 1
        );
        blocks.push(Block {
            doc: doc.to_owned(),
            line: index + 1,
            info,
            text: body,
        });
    }
    blocks
}

/// The configuration file a block stands for.
fn as_file(kind: Kind, text: &str) -> String {
    match kind {
        Kind::File => text.to_owned(),
        Kind::Route => {
            let mut file = String::from("routes:\n");
            for (index, line) in text.lines().enumerate() {
                let prefix = match (index, line.is_empty()) {
                    (0, _) => "  - ",
                    (_, true) => "",
                    _ => "    ",
                };
                file.push_str(prefix);
                file.push_str(line);
                file.push('\n');
            }
            file
        }
    }
}

/// Adds the `${NAME}` and `${NAME:-default}` of `text` to `into` (`$${` is a
/// literal): the value says whether every use has a default.
fn variables(text: &str, into: &mut BTreeMap<String, bool>) {
    let mut from = 0;
    while let Some(found) = text[from..].find("${") {
        let at = from + found;
        from = at + 2;
        if text[..at].ends_with('$') {
            continue;
        }
        let rest = &text[from..];
        let name_len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if name_len == 0 {
            continue;
        }
        let has_default = rest[name_len..].starts_with(":-");
        let only_defaults = into
            .entry(rest[..name_len].to_owned())
            .or_insert(has_default);
        *only_defaults &= has_default;
    }
}

/// The presets a configuration file's routes name.
fn presets_named(file: &str) -> Vec<String> {
    let Ok(config) = serde_yaml::from_str::<serde_yaml::Value>(file) else {
        return Vec::new(); // the binary says what is wrong with it
    };
    config["routes"]
        .as_sequence()
        .map(|routes| {
            routes
                .iter()
                .filter_map(|route| route["preset"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The files a check may need: one P-256 key and a certificate for it.
struct Keys {
    key_pem: String,
    cert_pem: String,
}

impl Keys {
    fn new() -> Keys {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let cert_pem = params.self_signed(&key).unwrap().pem();
        Keys {
            key_pem: key.serialize_pem(),
            cert_pem,
        }
    }

    /// Writes the file a documented path stands for, by its extension;
    /// other files are left for the binary to miss.
    fn write(&self, path: &Path) {
        let contents = match path.extension().and_then(|ext| ext.to_str()) {
            Some("pem" | "p8" | "key") => &self.key_pem,
            Some("crt") => &self.cert_pem,
            _ => return,
        };
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }
}

/// A harmless value for a variable, by its name.
fn placeholder(name: &str, key_file: &Path) -> String {
    if name.ends_with("_URL") {
        "http://127.0.0.1:9/".to_owned()
    } else if name.ends_with("_FILE") {
        key_file.to_str().unwrap().to_owned()
    } else if name.contains("SEAL_KEY") {
        "0123456789abcdef".repeat(4)
    } else {
        "placeholder".to_owned()
    }
}

fn numbered(text: &str) -> String {
    text.lines()
        .enumerate()
        .map(|(index, line)| format!("{:4} | {line}\n", index + 1))
        .collect()
}

/// Runs `quirkgate --config FILE --test` on the block; `Err` says why it failed.
fn check(block: &Block, kind: Kind, keys: &Keys) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let documented = format!("{}/", dir.path().join("etc").display());
    let file = as_file(kind, &block.text).replace(DOCUMENTED_DIR, &documented);
    let mut from = 0;
    while let Some(found) = file[from..].find(&documented) {
        let at = from + found;
        let tail = &file[at..];
        let len = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || "._/-".contains(c)))
            .unwrap_or(tail.len());
        keys.write(Path::new(&tail[..len]));
        from = at + len;
    }
    let key_file = dir.path().join("variable-key.pem");
    keys.write(&key_file);

    let mut names = BTreeMap::new();
    variables(&file, &mut names);
    for preset in presets_named(&file) {
        let path = Path::new(ROOT).join(format!("conf/presets/{preset}.yaml"));
        if let Ok(text) = std::fs::read_to_string(path) {
            variables(&text, &mut names);
        }
    }
    let config = dir.path().join("block.yaml");
    std::fs::write(&config, &file).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_quirkgate"));
    command.arg("--config").arg(&config).arg("--test");
    for (name, only_defaults) in &names {
        if *only_defaults {
            command.env_remove(name);
        } else {
            command.env(name, placeholder(name, &key_file));
        }
    }
    let output = command.output().unwrap();
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "{}:{}: the ```{} block fails `quirkgate --config FILE --test` ({}), \
         with these variables set: {:?}\n-- the file checked:\n{}-- the binary said:\n{}{}",
        block.doc,
        block.line,
        block.info,
        output.status,
        names
            .iter()
            .filter(|(_, only_defaults)| !**only_defaults)
            .map(|(name, _)| name.as_str())
            .collect::<Vec<_>>(),
        numbered(&file),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    ))
}

/// Checks every YAML block of `blocks`: how many were checked, and the failures.
fn check_all(blocks: &[Block]) -> (usize, Vec<String>) {
    let keys = Keys::new();
    let mut checked = 0;
    let mut failures = Vec::new();
    for block in blocks {
        match kind(&block.info) {
            Ok(None) => {}
            Ok(Some(kind)) => {
                checked += 1;
                if let Err(failure) = check(block, kind, &keys) {
                    failures.push(failure);
                }
            }
            Err(why) => failures.push(format!("{}:{}: {why}", block.doc, block.line)),
        }
    }
    (checked, failures)
}

#[test]
fn every_yaml_block_of_the_documents_passes_config_test() {
    let mut blocks = Vec::new();
    for path in documents() {
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let doc = path.strip_prefix(ROOT).unwrap().display().to_string();
        blocks.extend(fenced_blocks(&doc, &text));
    }
    let (checked, failures) = check_all(&blocks);
    assert!(
        failures.is_empty(),
        "{} of {checked} YAML blocks fail:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    // The README and docs/ hold whole files and routes: finding none means
    // the extraction broke, not that the documents are right.
    assert!(checked >= 5, "only {checked} YAML blocks found");
    assert!(
        blocks
            .iter()
            .any(|b| b.doc == "README.md" && b.info == "yaml"),
        "the README shows no configuration file"
    );
}

#[test]
fn the_check_fails_on_a_broken_block_and_says_where() {
    let doc = "\
# A document

```yaml
routes:
  - path: /t
    preset: tiktok
```

- in a list:
  ```yaml route
  path: /apple
  preset: apple
  ```

```yaml
routes:
  - path: /t
    preset: tiktok
    timeout_typo: 3s
```

```yml
routes: []
```

```sh
echo not yaml
```
";
    let blocks = fenced_blocks("example.md", doc);
    assert_eq!(
        blocks
            .iter()
            .map(|b| (b.line, b.info.as_str()))
            .collect::<Vec<_>>(),
        [
            (3, "yaml"),
            (10, "yaml route"),
            (15, "yaml"),
            (22, "yml"),
            (26, "sh")
        ]
    );
    assert_eq!(blocks[1].text, "path: /apple\npreset: apple\n");
    assert_eq!(
        as_file(Kind::Route, &blocks[1].text),
        "routes:\n  - path: /apple\n    preset: apple\n"
    );

    let (checked, failures) = check_all(&blocks);
    assert_eq!(checked, 3, "{failures:?}");
    assert_eq!(failures.len(), 2, "{failures:#?}");
    // The unknown key: the document, the line, the file and the binary's words.
    assert!(failures[0].starts_with("example.md:15:"), "{}", failures[0]);
    assert!(failures[0].contains("timeout_typo"), "{}", failures[0]);
    assert!(failures[0].contains("unknown field"), "{}", failures[0]);
    // A YAML block outside the convention is not skipped.
    assert!(failures[1].starts_with("example.md:22:"), "{}", failures[1]);
}

#[test]
fn variables_are_found_with_their_defaults_and_literals_skipped() {
    let mut names = BTreeMap::new();
    variables(
        "a: ${A}\nb: \"${B:-x}\"\nc: $${NOT_ONE}\nd: ${B}-${D:-}\ne: ${}",
        &mut names,
    );
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        [
            ("A".to_owned(), false),
            ("B".to_owned(), false),
            ("D".to_owned(), true)
        ]
    );
}
