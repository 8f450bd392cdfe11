//! The crate's layers import downward only, and no files import each other.
//!
//! `src/` has four layers: `core` <- `platform` <- `driver` <- `bindings` (see `src/lib.rs`).
//! This test reads every file under `src/`, collects the paths it names (`use crate::...`,
//! `use super::...`, `crate::x::y` in code, use trees with braces), resolves each to the file
//! that defines it, and fails on a file that names a higher layer or on any circle of files
//! (two files that import each other, or a longer loop). It reads the source as text, so it
//! covers the wasm-only layers while it runs natively.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// A module path inside the crate: `["driver", "action"]`; the crate root is empty.
type ModPath = Vec<String>;

fn layer(m: &[String]) -> usize {
    match m.first().map(String::as_str) {
        Some("core") => 0,
        Some("platform") => 1,
        Some("driver") => 2,
        Some("bindings") => 3,
        // `lib.rs` declares the layers: it may name them all.
        _ => 4,
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/driver/action.rs` -> `driver::action`; `src/core/mod.rs` -> `core`; `src/lib.rs` -> root.
fn module_of(src: &Path, file: &Path) -> ModPath {
    let rel = file.strip_prefix(src).unwrap();
    let mut parts: ModPath = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_string());
    }
    parts
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Path, // `::`
    Punct(char),
}

/// The source's tokens that matter for paths, without comments, strings and char literals.
fn tokens(text: &str) -> Vec<Tok> {
    let c: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        if ch == '/' && c.get(i + 1) == Some(&'/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && c.get(i + 1) == Some(&'*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if ch == 'r' && matches!(c.get(i + 1), Some('"') | Some('#')) && {
            // A raw string: r"..." or r#"..."#.
            let mut j = i + 1;
            while c.get(j) == Some(&'#') {
                j += 1;
            }
            c.get(j) == Some(&'"')
        } {
            let mut j = i + 1;
            let mut hashes = 0;
            while c[j] == '#' {
                hashes += 1;
                j += 1;
            }
            j += 1;
            loop {
                if j >= c.len() {
                    break;
                }
                if c[j] == '"' && (0..hashes).all(|k| c.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            i = j;
        } else if ch == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
        } else if ch == '\'' {
            // A char literal ('a', '\n', '\u{1F600}') or a lifetime ('a).
            if c.get(i + 1) == Some(&'\\') {
                i += 2;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if c.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
            }
        } else if ch.is_alphabetic() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            out.push(Tok::Ident(c[start..i].iter().collect()));
        } else if ch == ':' && c.get(i + 1) == Some(&':') {
            out.push(Tok::Path);
            i += 2;
        } else if ch.is_whitespace() {
            i += 1;
        } else {
            out.push(Tok::Punct(ch));
            i += 1;
        }
    }
    out
}

/// Expands the use tree at `toks[*i..]` (up to its `,`, `}` or `;`) into full paths.
fn use_tree(toks: &[Tok], i: &mut usize, prefix: &[String], out: &mut Vec<Vec<String>>) {
    let mut path = prefix.to_vec();
    loop {
        match toks.get(*i) {
            Some(Tok::Ident(s)) if s == "as" => {
                *i += 2; // `as name`
                out.push(path);
                return;
            }
            Some(Tok::Ident(s)) => {
                path.push(s.clone());
                *i += 1;
            }
            Some(Tok::Path) => *i += 1,
            Some(Tok::Punct('*')) => {
                *i += 1;
                out.push(path);
                return;
            }
            Some(Tok::Punct('{')) => {
                *i += 1;
                loop {
                    match toks.get(*i) {
                        Some(Tok::Punct('}')) => {
                            *i += 1;
                            return;
                        }
                        Some(Tok::Punct(',')) => *i += 1,
                        None => return,
                        _ => use_tree(toks, i, &path, out),
                    }
                }
            }
            _ => {
                if path.last().is_some_and(|s| s == "self") {
                    path.pop();
                }
                out.push(path);
                return;
            }
        }
    }
}

/// `path` as seen from module `here`, as a path from the crate root; `None` for other crates.
fn absolute(
    path: &[String],
    here: &[String],
    modules: &BTreeSet<ModPath>,
    in_use: bool,
) -> Option<ModPath> {
    let first = path.first()?;
    let (mut base, rest): (ModPath, &[String]) = match first.as_str() {
        "crate" => (Vec::new(), &path[1..]),
        "self" => (here.to_vec(), &path[1..]),
        "super" => {
            let mut base = here.to_vec();
            let mut k = 0;
            while path.get(k).is_some_and(|s| s == "super") {
                base.pop();
                k += 1;
            }
            (base, &path[k..])
        }
        // A `use` of a child module (2018 paths: `use action::Action;` in `bindings/mod.rs`).
        name if in_use => {
            let mut child = here.to_vec();
            child.push(name.to_string());
            if !modules.iter().any(|m| m.starts_with(&child)) {
                return None;
            }
            (here.to_vec(), path)
        }
        _ => return None,
    };
    base.extend(rest.iter().cloned());
    Some(base)
}

/// The file module that defines `path`: its longest prefix that is a file.
fn file_of(path: &[String], modules: &BTreeSet<ModPath>) -> ModPath {
    (0..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|p| modules.contains(p))
        .unwrap_or_default()
}

/// Every file module under `src/` and the file modules each one names.
fn imports(src: &Path) -> BTreeMap<ModPath, BTreeSet<ModPath>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeSet<ModPath> = files.iter().map(|f| module_of(src, f)).collect();
    let mut graph = BTreeMap::new();
    for file in &files {
        let me = module_of(src, file);
        let toks = tokens(&fs::read_to_string(file).unwrap());
        let mut named = Vec::new(); // (path, module it was named from, in a `use`)
                                    // Inline modules (`mod tests { ... }`): (name, brace depth inside it).
        let mut inline: Vec<(String, usize)> = Vec::new();
        let mut depth = 0usize;
        let mut i = 0;
        while i < toks.len() {
            let mut here = me.clone();
            here.extend(inline.iter().map(|(n, _)| n.clone()));
            match &toks[i] {
                Tok::Punct('{') => {
                    depth += 1;
                    i += 1;
                }
                Tok::Punct('}') => {
                    if inline.last().is_some_and(|(_, d)| *d == depth) {
                        inline.pop();
                    }
                    depth = depth.saturating_sub(1);
                    i += 1;
                }
                Tok::Ident(k) if k == "mod" => {
                    if let (Some(Tok::Ident(name)), Some(Tok::Punct('{'))) =
                        (toks.get(i + 1), toks.get(i + 2))
                    {
                        inline.push((name.clone(), depth + 1));
                    }
                    i += 2;
                }
                Tok::Ident(k) if k == "use" => {
                    i += 1;
                    let mut paths = Vec::new();
                    use_tree(&toks, &mut i, &[], &mut paths);
                    named.extend(paths.into_iter().map(|p| (p, here.clone(), true)));
                }
                Tok::Ident(k)
                    if (k == "crate" || k == "super" || k == "self")
                        && toks.get(i + 1) == Some(&Tok::Path) =>
                {
                    let mut path = vec![k.clone()];
                    i += 1;
                    while toks.get(i) == Some(&Tok::Path) {
                        match toks.get(i + 1) {
                            Some(Tok::Ident(s)) => {
                                path.push(s.clone());
                                i += 2;
                            }
                            _ => break,
                        }
                    }
                    named.push((path, here.clone(), false));
                }
                _ => i += 1,
            }
        }
        let mut targets = BTreeSet::new();
        for (path, from, in_use) in named {
            if let Some(abs) = absolute(&path, &from, &modules, in_use) {
                let target = file_of(&abs, &modules);
                if target != me {
                    targets.insert(target);
                }
            }
        }
        graph.insert(me, targets);
    }
    graph
}

fn name(m: &[String]) -> String {
    if m.is_empty() {
        "crate".into()
    } else {
        m.join("::")
    }
}

/// What is wrong with the import graph: upward imports and circles of files.
fn problems(graph: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Vec<String> {
    let mut out = Vec::new();
    for (from, targets) in graph {
        for to in targets {
            if layer(to) > layer(from) {
                out.push(format!("upward import: {} names {}", name(from), name(to)));
            }
            if from < to && graph.get(to).is_some_and(|t| t.contains(from)) {
                out.push(format!(
                    "files import each other: {} and {}",
                    name(from),
                    name(to)
                ));
            }
        }
    }
    // Longer circles: a file that reaches itself through others.
    for start in graph.keys() {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<(ModPath, Vec<ModPath>)> = vec![(start.clone(), vec![start.clone()])];
        while let Some((m, trail)) = stack.pop() {
            for next in graph.get(&m).into_iter().flatten() {
                if next == start && trail.len() > 2 {
                    // Report each circle once, from its smallest file.
                    if trail.iter().all(|t| t >= start) {
                        let names: Vec<String> = trail.iter().map(|t| name(t)).collect();
                        out.push(format!(
                            "circle of files: {} -> {}",
                            names.join(" -> "),
                            name(start)
                        ));
                    }
                } else if seen.insert(next.clone()) {
                    let mut t = trail.clone();
                    t.push(next.clone());
                    stack.push((next.clone(), t));
                }
            }
        }
    }
    out
}

#[test]
fn layers_import_downward_and_files_form_no_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = imports(&src);
    assert!(graph.len() > 30, "found too few files under src/");
    // The reader sees what it should: a known import of each kind.
    let m = |s: &str| s.split("::").map(String::from).collect::<ModPath>();
    assert!(graph[&m("driver::action")].contains(&m("core::action")));
    assert!(graph[&m("bindings")].contains(&m("bindings::sendonce")));
    let problems = problems(&graph);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_reader_finds_upward_imports_and_circles() {
    let m = |s: &str| s.split("::").map(String::from).collect::<ModPath>();
    let mut graph = BTreeMap::new();
    graph.insert(m("core::a"), BTreeSet::from([m("driver::x")]));
    graph.insert(m("driver::x"), BTreeSet::from([m("driver::y")]));
    graph.insert(m("driver::y"), BTreeSet::from([m("driver::x")]));
    let found = problems(&graph);
    assert!(found
        .iter()
        .any(|p| p.contains("upward import: core::a names driver::x")));
    assert!(found
        .iter()
        .any(|p| p.contains("files import each other: driver::x and driver::y")));

    let toks = tokens(
        "use crate::core::{self, record::{Record as R, keys}, action::*};\n\
         // crate::bindings::convert in a comment\n\
         let s = \"crate::bindings::x\"; let c = '\"'; fn f<'a>() { super::shared::g(); }",
    );
    let mut i = 1;
    let mut paths = Vec::new();
    use_tree(&toks, &mut i, &[], &mut paths);
    let joined: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
    assert_eq!(
        joined,
        [
            "crate::core",
            "crate::core::record::Record",
            "crate::core::record::keys",
            "crate::core::action"
        ]
    );
    assert!(!toks.contains(&Tok::Ident("bindings".into())));
    assert!(toks.contains(&Tok::Ident("shared".into())));
}
