fn main() {
    napi_build::setup();
    warn_without_mimalloc_define();
}

/// `.cargo/config.toml` passes `-DMI_DEFAULT_ARENA_EAGER_COMMIT=0` to mimalloc's C build through HOST_CFLAGS /
/// TARGET_CFLAGS. Cargo only reads that file when the build starts inside the repository; a build started elsewhere
/// (`cargo build --manifest-path ...`) still works but gets mimalloc's eager arena commit and its higher RSS.
fn warn_without_mimalloc_define() {
    const DEFINE: &str = "MI_DEFAULT_ARENA_EAGER_COMMIT=0";
    // The variables cc concatenates for this build: HOST_CFLAGS for a native build, TARGET_CFLAGS for a cross one.
    let target = std::env::var("TARGET").unwrap_or_default();
    let kind = if std::env::var("HOST").ok().as_deref() == Some(target.as_str()) {
        "HOST"
    } else {
        "TARGET"
    };
    let vars = [
        format!("CFLAGS_{target}"),
        format!("CFLAGS_{}", target.replace(['-', '.'], "_")),
        format!("{kind}_CFLAGS"),
        "CFLAGS".to_string(),
    ];
    for var in &vars {
        println!("cargo:rerun-if-env-changed={var}");
    }
    let found = vars
        .iter()
        .any(|v| std::env::var(v).is_ok_and(|flags| flags.contains(DEFINE)));
    if !found {
        println!(
            "cargo:warning=mimalloc is built without -D{DEFINE} (set by .cargo/config.toml when building from \
             the repository root): the addon will work but use more memory"
        );
    }
}
