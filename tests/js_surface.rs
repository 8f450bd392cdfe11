//! The JS surface follows the core's own lists, so that neither the TypeScript types nor the
//! package README (what npm shows) can drift from what the code accepts and emits:
//!
//! - the `SendonceEventType` union and the README's Events section name every event kind
//!   (`events::ALL_KINDS`);
//! - every options interface (`SendonceOptions`, `RetryOptions`, `ActionOptions`,
//!   `FormOptions`, `ChatOptions`, `QuickRepliesOptions`) has exactly the option names its
//!   binding accepts (`core::options`);
//! - the README's options table has a row per option and its status table a row per status
//!   code (`status::ALL_CODES`).

use sendonce::core::events::ALL_KINDS;
use sendonce::core::options;
use sendonce::core::status::ALL_CODES;

/// The TypeScript sections of the bindings (wasm-bindgen's `typescript_custom_section`s).
const TYPES: &[&str] = &[
    include_str!("../src/bindings/types.rs"),
    include_str!("../src/bindings/form.rs"),
    include_str!("../src/bindings/chat.rs"),
    include_str!("../src/bindings/quick.rs"),
];
const PACKAGE_README: &str = include_str!("../js/README.md");

fn sorted<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> Vec<String> {
    let mut v: Vec<String> = names.into_iter().map(|s| s.as_ref().to_string()).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The text from `start` up to (not including) `end`, in whichever section has it.
fn declaration(start: &str, end: &str) -> &'static str {
    let text = TYPES
        .iter()
        .find(|t| t.contains(start))
        .unwrap_or_else(|| panic!("no binding declares {start:?}"));
    let body = &text[text.find(start).unwrap() + start.len()..];
    &body[..body.find(end).unwrap()]
}

/// The member names of `export interface NAME ... {` (top-level members only).
fn interface_members(name: &str) -> Vec<String> {
    let body = declaration(&format!("export interface {name} "), "\n}");
    let mut names = Vec::new();
    let mut depth = 0i32;
    let mut in_doc = false;
    for line in body.lines().skip(1) {
        let t = line.trim();
        if t.starts_with("/**") {
            in_doc = !t.contains("*/");
            continue;
        }
        if in_doc {
            in_doc = !t.contains("*/");
            continue;
        }
        if depth == 0 {
            if let Some(n) = t.split(['?', ':', '(']).next() {
                if !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric()) {
                    names.push(n.to_string());
                }
            }
        }
        depth += t.matches('{').count() as i32 - t.matches('}').count() as i32;
    }
    sorted(names)
}

/// The first column (between backticks) of the rows of the README table under `heading`.
fn table_rows(heading: &str) -> Vec<String> {
    let start = PACKAGE_README
        .find(&format!("\n## {heading}\n"))
        .unwrap_or_else(|| panic!("js/README.md has no {heading} section"));
    let section = &PACKAGE_README[start + 1..];
    let section = &section[..section[1..].find("\n## ").map_or(section.len(), |e| e + 1)];
    sorted(
        section
            .lines()
            .filter_map(|l| l.strip_prefix("| `"))
            .filter_map(|l| l.split('`').next()),
    )
}

#[test]
fn the_event_type_union_is_the_core_list() {
    let union = declaration("export type SendonceEventType =", ";");
    let named = sorted(union.split('"').skip(1).step_by(2));
    assert_eq!(named, sorted(ALL_KINDS.iter().map(|k| k.as_str())));
}

#[test]
fn the_package_readme_names_every_event_type() {
    let start = PACKAGE_README
        .find("\n## Events\n")
        .expect("an Events section");
    let section = &PACKAGE_README[start + 1..];
    let section = &section[..section[1..].find("\n## ").map_or(section.len(), |e| e + 1)];
    let missing: Vec<&str> = ALL_KINDS
        .iter()
        .map(|k| k.as_str())
        .filter(|n| !section.contains(&format!("`{n}`")))
        .collect();
    assert!(missing.is_empty(), "the Events section lacks {missing:?}");
}

#[test]
fn every_options_interface_has_exactly_the_accepted_names() {
    for (interface, accepted) in [
        ("SendonceOptions", options::SENDONCE_OPTIONS),
        ("RetryOptions", options::RETRY_OPTIONS),
        ("ActionOptions", options::ACTION_OPTIONS),
        ("FormOptions", options::FORM_OPTIONS),
        ("ChatOptions", options::CHAT_OPTIONS),
        ("QuickRepliesOptions", options::QUICK_REPLIES_OPTIONS),
    ] {
        assert_eq!(
            interface_members(interface),
            sorted(accepted),
            "interface {interface}"
        );
    }
}

#[test]
fn the_readme_options_table_has_a_row_per_option() {
    let rows = table_rows("Options");
    let mut expected = Vec::new();
    for name in options::SENDONCE_OPTIONS {
        match *name {
            "retry" => expected.extend(options::RETRY_OPTIONS.iter().map(|o| format!("retry.{o}"))),
            "windows" => expected.extend(
                options::WINDOWS_OPTIONS
                    .iter()
                    .map(|o| format!("windows.{o}")),
            ),
            other => expected.push(other.to_string()),
        }
    }
    assert_eq!(rows, sorted(expected));
}

#[test]
fn the_readme_status_table_has_a_row_per_status() {
    assert_eq!(
        table_rows("Statuses"),
        sorted(ALL_CODES.iter().map(|c| c.as_str()))
    );
}
