//! The tree shows the layers (`src/lib.rs` lists them): no module imports
//! from a layer above its own, and no two modules import each other, directly
//! or round a longer loop. Test code is left out: it may use anything.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Bottom to top, as `src/lib.rs` lists them.
const LAYERS: [&str; 10] = [
    "http1",
    "core",
    "telemetry",
    "plan",
    "upstream",
    "gateway",
    "bridge",
    "front",
    "server",
    "broker",
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every library source file, as its module path (`plan/file`, `gateway`).
fn modules() -> BTreeMap<String, String> {
    fn walk(dir: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(src()).unwrap().with_extension("");
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
    walk(&src(), &mut out);
    out
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

fn layer_of(module: &str) -> Option<usize> {
    let top = module.split('/').next().unwrap();
    LAYERS.iter().position(|layer| *layer == top)
}

#[test]
fn no_module_imports_from_a_layer_above_its_own() {
    let known = modules();
    assert!(known.contains_key("http1/caller_head") && known.contains_key("gateway"));
    let mut upward = Vec::new();
    for (module, used) in imports(&known) {
        for target in used {
            match (layer_of(&module), layer_of(&target)) {
                (Some(own), Some(theirs)) if theirs > own => {
                    upward.push(format!("{module} -> {target}"))
                }
                // The mocks stand apart from the layers, both ways.
                (None, Some(_)) | (Some(_), None) => upward.push(format!("{module} -> {target}")),
                _ => {}
            }
        }
    }
    assert!(upward.is_empty(), "imports from above: {upward:#?}");
}

#[test]
fn no_import_cycles_between_modules() {
    let graph = imports(&modules());
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
        visit(module, &graph, &mut Vec::new(), &mut done, &mut cycles);
    }
    assert!(cycles.is_empty(), "import cycles: {cycles:#?}");
}

#[test]
fn the_layer_check_sees_an_upward_import() {
    let mut known = modules();
    known.insert(
        "core/sample".to_owned(),
        "use crate::plan::upstream::UpstreamTarget;\nuse super::form::Param;".to_owned(),
    );
    let used = &imports(&known)["core/sample"];
    assert_eq!(
        used.iter().map(String::as_str).collect::<Vec<_>>(),
        vec!["core/form", "plan/upstream"]
    );
    assert!(layer_of("plan/upstream") > layer_of("core/sample"));
}
