//! The layer rule of the crate (see the crate docs), checked over the source text: a module may name only the
//! modules of lower layers (and itself). Rust's privacy cannot express "lower layers only" for sibling modules,
//! so this test reads every file under `src/` and fails on any `crate::<module>` path (code, not comments) that
//! points upward or sideways, on `super::super` (which could climb out of a module), and on grouped
//! `crate::{...}` imports (which would hide the module names from the check).

use std::path::{Path, PathBuf};

/// Each top-level module and the modules it may name besides itself.
const ALLOWED: &[(&str, &[&str])] = &[
    ("metrics", &[]),
    ("clock", &["metrics"]),
    ("codec", &["metrics"]),
    ("transport", &["metrics"]),
    ("webhook", &["metrics"]),
    ("cache", &["metrics", "clock", "codec", "transport"]),
    ("jwt", &["metrics", "clock", "codec", "transport", "cache"]),
    (
        "jwks",
        &["metrics", "clock", "codec", "transport", "cache", "jwt"],
    ),
    (
        "token",
        &[
            "metrics",
            "clock",
            "codec",
            "transport",
            "cache",
            "jwt",
            "jwks",
        ],
    ),
    (
        "auth",
        &[
            "metrics",
            "clock",
            "codec",
            "transport",
            "cache",
            "jwt",
            "jwks",
            "token",
        ],
    ),
    ("proxy", &["metrics", "clock", "codec", "transport"]),
];

fn allowed(module: &str) -> Option<&'static [&'static str]> {
    ALLOWED.iter().find(|(m, _)| *m == module).map(|(_, a)| *a)
}

/// The violations in `source`, a file of top-level module `module`; `root` = the module's own file (`x.rs` or
/// `x/mod.rs`), where `super::` is the crate root.
fn violations(module: &str, source: &str, root: bool) -> Vec<String> {
    let Some(may) = allowed(module) else {
        return vec![format!("module `{module}` has no layer in ALLOWED")];
    };
    let mut found = Vec::new();
    for (n, line) in source.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        let code = code.split(" //").next().unwrap_or(code);
        if code.contains("super::super") {
            found.push(format!("line {}: `super::super` ({code})", n + 1));
        }
        let prefixes: &[&str] = if root {
            &["crate::", "super::"]
        } else {
            &["crate::"]
        };
        for (at, prefix) in prefixes.iter().flat_map(|p| code.match_indices(*p)) {
            let rest = &code[at + prefix.len()..];
            if prefix == "super::" && (rest.starts_with('*') || rest.starts_with("super")) {
                continue;
            }
            if rest.starts_with('{') {
                found.push(format!("line {}: grouped `{prefix}{{..}}` ({code})", n + 1));
                continue;
            }
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if name != module && !may.contains(&name.as_str()) {
                found.push(format!(
                    "line {}: `{module}` names `crate::{name}` ({code})",
                    n + 1
                ));
            }
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read src dir")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn lower_layers_never_name_upper_ones() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut checked = std::collections::BTreeMap::<String, usize>::new();
    let mut all = Vec::new();
    for path in &files {
        let rel = path.strip_prefix(&src).expect("under src");
        let first = rel.components().next().expect("a component");
        let module = first.as_os_str().to_string_lossy();
        let module = module.trim_end_matches(".rs");
        if module == "lib" || module == "layering" {
            continue;
        }
        let source = std::fs::read_to_string(path).expect("read source");
        *checked.entry(module.to_owned()).or_default() += 1;
        all.extend(
            violations(
                module,
                &source,
                rel.components().count() == 1
                    || rel.ends_with("mod.rs") && rel.components().count() == 2,
            )
            .into_iter()
            .map(|v| format!("{}: {v}", rel.display())),
        );
    }
    // Every layer was seen: the walk cannot pass by reading nothing.
    for (module, _) in ALLOWED {
        assert!(
            checked.contains_key(*module),
            "no file of `{module}` was checked"
        );
    }
    assert!(all.is_empty(), "layer violations:\n{}", all.join("\n"));
}

#[test]
fn the_check_catches_what_it_claims_to() {
    let nested = |m, s| violations(m, s, false);
    assert_eq!(nested("cache", "use crate::token::JwtPayload;").len(), 1);
    assert_eq!(nested("cache", "    let x = crate::jwks::X;").len(), 1);
    assert_eq!(nested("cache", "        $crate::token::X").len(), 1);
    assert_eq!(nested("proxy", "use crate::cache::Scope;").len(), 1);
    assert_eq!(nested("jwt", "use crate::{cache::Scope};").len(), 1);
    assert_eq!(nested("token", "use super::super::auth;").len(), 1);
    assert!(nested("cache", "//! see [`x`](crate::token::X)").is_empty());
    assert!(nested("token", "use crate::cache::token_key::Scope;").is_empty());
    assert!(nested("jwks", "use crate::jwks::X; use crate::jwt::Y;").is_empty());
    assert!(nested("cache", "use super::token_key::Scope;").is_empty());
    assert_eq!(
        violations("transport", "use super::token::X;", true).len(),
        1
    );
    assert!(violations("cache", "pub mod ttl; use super::*;", true).is_empty());
    assert_eq!(violations("nowhere", "", false).len(), 1);
}
