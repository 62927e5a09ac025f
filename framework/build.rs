//! Makes sure the prebuilt DuckDB shared library is in `DUCKDB_LIB_DIR` before anything links it.
//!
//! Compiling DuckDB from C++ takes 40 minutes on two cores; the official prebuilt
//! `libduckdb.so` 1.5.6 ships in an npm package and links in seconds. This script fetches it once
//! with `npm pack` (the npm registry is reachable wherever cargo's is) into
//! `target/duckdb` (see `.cargo/config.toml`). With the `bundled` feature it does nothing.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const NPM_PACKAGE: &str = "@duckdb/node-bindings-linux-x64@1.5.6-r.1";
const LIBRARY_FILE: &str = "libduckdb.so";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=DUCKDB_LIB_DIR");
    if env::var_os("CARGO_FEATURE_BUNDLED").is_some() {
        return;
    }
    let Some(library_dir) = env::var_os("DUCKDB_LIB_DIR").map(PathBuf::from) else {
        panic!(
            "DUCKDB_LIB_DIR is not set: build from the workspace (see .cargo/config.toml) or enable the `bundled` feature"
        );
    };
    let library_path = library_dir.join(LIBRARY_FILE);
    println!("cargo:rerun-if-changed={}", library_path.display());
    if library_path.exists() {
        return;
    }
    if let Err(message) = fetch_library(&library_dir) {
        panic!("cannot fetch {NPM_PACKAGE} into {}: {message}", library_dir.display());
    }
}

/// Packs the npm package into a scratch folder, extracts the library and moves it into place
/// with a rename, so an interrupted build never leaves a truncated library behind.
fn fetch_library(library_dir: &Path) -> Result<(), String> {
    let scratch = library_dir.join(format!(".fetch-{}", std::process::id()));
    fs::create_dir_all(&scratch).map_err(|error| error.to_string())?;
    run(Command::new("npm").args(["pack", NPM_PACKAGE, "--silent", "--pack-destination"]).arg(&scratch))?;
    let tarball = fs::read_dir(&scratch)
        .map_err(|error| error.to_string())?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|extension| extension == "tgz"))
        .ok_or("npm pack produced no tarball")?;
    run(Command::new("tar")
        .arg("xzf")
        .arg(&tarball)
        .arg("-C")
        .arg(&scratch)
        .arg(format!("package/{LIBRARY_FILE}")))?;
    fs::rename(scratch.join("package").join(LIBRARY_FILE), library_dir.join(LIBRARY_FILE))
        .map_err(|error| error.to_string())?;
    fs::remove_dir_all(&scratch).map_err(|error| error.to_string())
}

fn run(command: &mut Command) -> Result<(), String> {
    let status = command.status().map_err(|error| format!("{command:?}: {error}"))?;
    if status.success() { Ok(()) } else { Err(format!("{command:?} exited with {status}")) }
}
