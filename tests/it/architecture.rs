//! What Cargo cannot check about the layers. Cargo already refuses an import
//! from `quirkgate` into `quirkgate-core`, and from either into the mocks
//! (nothing but tests depends on `quirkgate-mocks`). Within each crate, this
//! checks that no module imports from a layer above its own (the order is the
//! numbered list in `src/lib.rs`, read from there) and that no two modules
//! import each other, directly or round a longer loop. Test code is left out:
//! it may use anything.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The product's layers, bottom to top: the numbered list of `src/lib.rs`'s
/// documentation (`//! 3. [`plan`]: ...`).
fn layers() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("src/lib.rs")).unwrap();
    text.lines()
        .filter_map(|line| {
            let item = line.strip_prefix("//! ")?.trim_start();
            let (number, rest) = item.split_once(". [`")?;
            number.parse::<usize>().ok()?;
            Some(rest.split('`').next()?.to_owned())
        })
        .collect()
}

/// Every library source file under `src`, as its module path (`plan/file`, `gateway`).
fn modules_in(src: &Path) -> BTreeMap<String, String> {
    fn walk(src: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(src, &path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(src).unwrap().with_extension("");
                let mut name = relative.to_string_lossy().replace('\\', "/");
                if let Some(parent) = name.strip_suffix("/mod") {
                    name = parent.to_owned();
                }
                if name != "main" && name != "lib" {
                    let text = std::fs::read_to_string(&path).unwrap();
                    // Test modules come last in each file and may use anything.
                    let code = text.split("#[cfg(test)]").next().unwrap().to_owned();
                    out.insert(name, code);
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(src, src, &mut out);
    out
}

fn modules() -> BTreeMap<String, String> {
    modules_in(&root().join("src"))
}

fn core_modules() -> BTreeMap<String, String> {
    modules_in(&root().join("crates/quirkgate-core/src"))
}

/// The most specific existing module a path (`core::rules::request::X`) names.
fn resolve(segments: &[&str], known: &BTreeMap<String, String>) -> Option<String> {
    (1..=segments.len())
        .rev()
        .map(|n| segments[..n].join("/"))
        .find(|candidate| known.contains_key(candidate))
}

fn path_segments(text: &str) -> Vec<&str> {
    text.split("::")
        .take_while(|s| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        })
        .collect()
}

/// The modules each module uses, through `crate::…` and `super::…` paths.
fn imports(known: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph = BTreeMap::new();
    for (module, code) in known {
        let mut used = BTreeSet::new();
        for (at, _) in code.match_indices("crate::") {
            let segments = path_segments(&code[at + "crate::".len()..]);
            if let Some(target) = resolve(&segments, known) {
                used.insert(target);
            }
        }
        for (at, _) in code.match_indices("super::") {
            let parent: Vec<&str> = module.split('/').collect();
            let mut segments: Vec<&str> = parent[..parent.len() - 1].to_vec();
            segments.extend(path_segments(&code[at + "super::".len()..]));
            if let Some(target) = resolve(&segments, known) {
                used.insert(target);
            }
        }
        used.remove(module);
        graph.insert(module.clone(), used);
    }
    graph
}

fn layer_of(module: &str, layers: &[String]) -> Option<usize> {
    let top = module.split('/').next().unwrap();
    layers.iter().position(|layer| layer == top)
}

#[test]
fn the_layer_list_names_every_module_of_the_crate_once() {
    let layers = layers();
    let lib = std::fs::read_to_string(root().join("src/lib.rs")).unwrap();
    let declared: Vec<String> = lib
        .lines()
        .filter_map(|line| line.strip_prefix("mod ")?.strip_suffix(';'))
        .map(str::to_owned)
        .collect();
    let mut listed = layers.clone();
    listed.sort();
    listed.dedup();
    assert_eq!(
        listed.len(),
        layers.len(),
        "a layer listed twice: {layers:?}"
    );
    let mut declared_sorted = declared.clone();
    declared_sorted.sort();
    assert_eq!(
        listed, declared_sorted,
        "src/lib.rs: the list and the modules differ"
    );
}

#[test]
fn no_module_imports_from_a_layer_above_its_own() {
    let layers = layers();
    let known = modules();
    assert!(known.contains_key("gateway") && known.contains_key("plan/file"));
    let mut upward = Vec::new();
    for (module, used) in imports(&known) {
        for target in used {
            match (layer_of(&module, &layers), layer_of(&target, &layers)) {
                (Some(own), Some(theirs)) if theirs > own => {
                    upward.push(format!("{module} -> {target}"))
                }
                (None, _) | (_, None) => {
                    upward.push(format!("{module} -> {target}: not in src/lib.rs's list"))
                }
                _ => {}
            }
        }
    }
    assert!(upward.is_empty(), "imports from above: {upward:#?}");
}

/// The direct and indirect normal dependencies of a workspace crate, by name.
fn dependencies_of(package: &str) -> Vec<String> {
    let output = std::process::Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "--locked",
            "-e",
            "normal",
            "--prefix",
            "none",
            "-p",
            package,
        ])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cargo tree: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
        .collect()
}

#[test]
fn the_core_depends_on_no_runtime_or_network_crate_and_the_gateway_not_on_the_mocks() {
    let core = dependencies_of("quirkgate-core");
    assert!(core.iter().any(|name| name == "serde_json"), "{core:?}");
    let runtime: Vec<&String> = core
        .iter()
        .filter(|name| {
            name.starts_with("pingora")
                || name.starts_with("tokio")
                || *name == "mio"
                || *name == "socket2"
        })
        .collect();
    assert!(runtime.is_empty(), "quirkgate-core pulls in {runtime:?}");
    let gateway = dependencies_of("quirkgate");
    assert!(
        gateway.iter().any(|name| name == "pingora-proxy"),
        "{gateway:?}"
    );
    assert!(
        !gateway.iter().any(|name| name == "quirkgate-mocks"),
        "the mocks are in the gateway's binary"
    );
}

#[test]
fn no_import_cycles_between_modules() {
    for known in [modules(), core_modules()] {
        assert_no_cycles(&imports(&known));
    }
}

fn assert_no_cycles(graph: &BTreeMap<String, BTreeSet<String>>) {
    // Depth-first search; a module met again on the current path closes a loop.
    fn visit(
        module: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        cycles: &mut Vec<String>,
    ) {
        if let Some(start) = path.iter().position(|m| m == module) {
            cycles.push(format!("{} -> {module}", path[start..].join(" -> ")));
            return;
        }
        if !done.insert(module.to_owned()) {
            return;
        }
        path.push(module.to_owned());
        for next in graph.get(module).into_iter().flatten() {
            visit(next, graph, path, done, cycles);
        }
        path.pop();
    }
    let mut cycles = Vec::new();
    let mut done = BTreeSet::new();
    for module in graph.keys() {
        visit(module, graph, &mut Vec::new(), &mut done, &mut cycles);
    }
    assert!(cycles.is_empty(), "import cycles: {cycles:#?}");
}

#[test]
fn the_layer_check_sees_an_upward_import() {
    let layers = layers();
    let mut known = modules();
    known.insert(
        "telemetry/sample".to_owned(),
        "use crate::plan::upstream::UpstreamTarget;\nuse super::metrics::RouteMetrics;".to_owned(),
    );
    let used = &imports(&known)["telemetry/sample"];
    assert_eq!(
        used.iter().map(String::as_str).collect::<Vec<_>>(),
        vec!["plan/upstream", "telemetry/metrics"]
    );
    assert!(layer_of("plan/upstream", &layers) > layer_of("telemetry/sample", &layers));
}

#[test]
fn the_cycle_check_sees_a_loop() {
    let mut graph = BTreeMap::new();
    graph.insert("a".to_owned(), BTreeSet::from(["b".to_owned()]));
    graph.insert("b".to_owned(), BTreeSet::from(["a".to_owned()]));
    let caught = std::panic::catch_unwind(|| assert_no_cycles(&graph));
    assert!(caught.is_err());
}
