//! The import rules between the top-level modules, checked over the source:
//! no circles, nothing imports `app`, only `app` imports `web`, and the
//! lower layers stay below what uses them.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

/// Modules that a module must not import (besides the general rules).
const FORBIDDEN: &[(&str, &[&str])] = &[
    ("web", &["store"]),
    ("state", &["views", "service"]),
    ("views", &["auth", "store", "mail", "service"]),
    ("service", &["state", "views", "htmx"]),
    ("auth", &["state", "views", "mail", "service"]),
    ("mail", &["auth", "state", "views", "service"]),
    (
        "store",
        &["auth", "state", "views", "mail", "htmx", "texts", "service"],
    ),
    (
        "domain",
        &[
            "auth", "state", "views", "mail", "store", "htmx", "texts", "service",
        ],
    ),
];

/// Top-level modules that only use the modules below them.
const LEAVES: &[&str] = &[
    "text", "catalog", "postal", "config", "error", "htmx", "texts",
];
const LEAF_MAY_IMPORT: &[&str] = &["text", "config", "error"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The source without its `#[cfg(test)] mod … { … }` blocks.
fn without_tests(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        let Some(open) = after.find('{') else {
            return out;
        };
        if !after[..open].contains("mod ") {
            out.push_str("#[cfg(test)]");
            rest = &after["#[cfg(test)]".len()..];
            continue;
        }
        let mut depth = 0usize;
        let mut end = after.len();
        for (i, c) in after[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// The top-level modules named after `crate::`, including those in
/// `crate::{a::…, b, …}` groups.
fn imported(text: &str) -> BTreeSet<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut names = BTreeSet::new();
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1usize;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => item_start = true,
                    c if c.is_whitespace() => {}
                    _ if item_start && depth == 1 => {
                        names.insert(ident(&group[i..]));
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            names.insert(ident(rest));
        }
    }
    names
}

/// Which top-level module imports which.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let top = |p: &Path| -> String {
        let first = p
            .strip_prefix(&src)
            .ok()
            .and_then(|r| r.components().next())
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .unwrap_or_default();
        first.trim_end_matches(".rs").to_owned()
    };
    let modules: BTreeSet<String> = files
        .iter()
        .map(|p| top(p))
        // `main` and `lib` only declare; this test module reads them all.
        .filter(|m| !["main", "lib", "layers"].contains(&m.as_str()))
        .collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = modules
        .iter()
        .map(|m| (m.clone(), BTreeSet::new()))
        .collect();
    for file in &files {
        let from = top(file);
        let Some(targets) = edges.get_mut(&from) else {
            continue;
        };
        let text = fs::read_to_string(file).unwrap_or_default();
        for to in imported(&without_tests(&text)) {
            if to != from && modules.contains(&to) {
                targets.insert(to);
            }
        }
    }
    edges
}

#[test]
fn the_parser_sees_grouped_and_nested_imports() {
    let text = "use crate::{\n    auth::{a, b},\n    store::{Store, users},\n    views, web,\n};\nlet x = crate::htmx::vary(y);\n#[cfg(test)]\nmod tests { use crate::app; }\n";
    let names: Vec<_> = imported(&without_tests(text)).into_iter().collect();
    assert_eq!(names, ["auth", "htmx", "store", "views", "web"]);
}

#[test]
fn top_level_modules_import_each_other_in_no_circle() {
    let edges = graph();
    // Depth-first search; a module met again on the current path closes a circle.
    fn visit<'a>(
        m: &'a str,
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        if let Some(at) = path.iter().position(|p| *p == m) {
            panic!("import circle: {} -> {m}", path[at..].join(" -> "));
        }
        if done.contains(m) {
            return;
        }
        path.push(m);
        for to in edges.get(m).into_iter().flatten() {
            visit(to, edges, path, done);
        }
        path.pop();
        done.insert(m);
    }
    let mut done = BTreeSet::new();
    for m in edges.keys() {
        visit(m, &edges, &mut Vec::new(), &mut done);
    }
}

#[test]
fn dependencies_point_one_way() {
    let edges = graph();
    assert!(
        edges.contains_key("web") && edges.contains_key("auth"),
        "{edges:?}"
    );
    for (from, targets) in &edges {
        assert!(!targets.contains("app"), "{from} imports app");
        assert!(
            from == "app" || !targets.contains("web"),
            "{from} imports web"
        );
        for (module, forbidden) in FORBIDDEN {
            if from == module {
                for f in *forbidden {
                    assert!(!targets.contains(*f), "{from} imports {f}");
                }
            }
        }
        if LEAVES.contains(&from.as_str()) {
            for to in targets {
                assert!(
                    LEAF_MAY_IMPORT.contains(&to.as_str()),
                    "{from} imports {to}"
                );
            }
        }
    }
}
