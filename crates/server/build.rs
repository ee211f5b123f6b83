// The migrations are embedded by `sqlx::migrate!`, which cargo does not track: a new migration
// file rebuilds the crate.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
