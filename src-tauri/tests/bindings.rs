//! The TypeScript types in `ui/src/bindings/ipc.ts` are generated from the Rust IPC types; this
//! test fails when the checked-in file is stale. `UPDATE_BINDINGS=1` rewrites it.

use std::path::Path;

#[test]
fn typescript_bindings_are_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src/bindings/ipc.ts");
    let expected = attache_console::view::typescript_bindings();
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::write(&path, &expected).unwrap();
        return;
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "{} is stale; run: UPDATE_BINDINGS=1 cargo test -p attache-console --test console_bindings",
        path.display()
    );
}
