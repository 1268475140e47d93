//! The engine's modules form layers: the imports between the files of
//! src/engine form no cycle, and the client, which composes the layers, is
//! imported by none of them. Read from the sources, so a new `use` that
//! closes a circle fails here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each engine module and the engine modules its code (tests left out) names.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/engine");
    let mut modules = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("src/engine") {
        let path = entry.expect("a directory entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("rs") {
            continue;
        }
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if name == "mod" {
            continue;
        }
        let source = std::fs::read_to_string(&path).expect("an engine source");
        // Unit tests may reach anywhere; the layers are about the code.
        let code = source.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
        modules.insert(name, code.to_string());
    }
    let names: BTreeSet<String> = modules.keys().cloned().collect();
    modules
        .iter()
        .map(|(name, code)| {
            let used = names
                .iter()
                .filter(|other| *other != name)
                .filter(|other| {
                    [
                        format!("super::{other}::"),
                        format!("super::{other}::{{"),
                        format!("crate::engine::{other}::"),
                    ]
                    .iter()
                    .any(|path| code.contains(path.as_str()))
                })
                .cloned()
                .collect();
            (name.clone(), used)
        })
        .collect()
}

/// A cycle in `graph`, if there is one, as the modules along it.
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut circle = path[at..].to_vec();
            circle.push(node.to_string());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(circle) = visit(next, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn engine_modules_import_one_another_in_layers_without_a_cycle() {
    let graph = imports();
    assert!(
        graph.len() > 10,
        "the engine's modules were read: {graph:?}"
    );
    if let Some(circle) = cycle(&graph) {
        panic!("engine modules import one another: {}", circle.join(" -> "));
    }
}

#[test]
fn the_client_is_imported_by_no_other_engine_module() {
    let graph = imports();
    let importers: Vec<_> = graph
        .iter()
        .filter(|(_, used)| used.contains("client"))
        .map(|(name, _)| name.as_str())
        .collect();
    assert!(
        importers.is_empty(),
        "client.rs is imported by {importers:?}"
    );
}

#[test]
fn the_cycle_check_finds_a_circle() {
    let mut graph = BTreeMap::new();
    graph.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    graph.insert("b".to_string(), BTreeSet::from(["c".to_string()]));
    graph.insert("c".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(cycle(&graph).map(|c| c.len()), Some(4));
    graph.insert("c".to_string(), BTreeSet::new());
    assert_eq!(cycle(&graph), None);
}
