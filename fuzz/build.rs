//! Lets the fuzz binaries find `libduckdb.so` at run time.
//!
//! `player_game_summary` links the prebuilt DuckDB library from the workspace's `target/duckdb`
//! (see `.cargo/config.toml`). cargo-fuzz sets `RUSTFLAGS`, which replaces the rpath flags of that
//! config, so the binaries under `fuzz/target/` would not load; this adds the library's folder,
//! absolute, as their rpath. The binaries are never deployed, so an absolute path is fine.

fn main() {
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:rustc-link-arg-bins=-Wl,-rpath,{manifest_dir}/../target/duckdb");
}
