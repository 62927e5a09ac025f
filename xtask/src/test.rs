//! `cargo xtask test`: the whole test suite, as CI runs it, with a local BigQuery emulator.
//!
//! The emulator is installed and started through `scripts/bigquery-emulator.sh` (a virtualenv under
//! `target/`, free loopback ports), its address passed to `cargo test` as
//! `BIGQUERY_EMULATOR_HOST`, and it is stopped afterwards, also when the tests fail. When it cannot
//! be installed or started, the reason goes to the tests as `BIGQUERY_EMULATOR_UNAVAILABLE`: the
//! emulator tests print it and skip, every other test runs. An emulator the caller already names
//! in `BIGQUERY_EMULATOR_HOST` is used as it is.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};

use crate::project_root;

pub fn run(cargo_args: &[String]) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(cargo);
    command.current_dir(project_root()).args(["test", "--workspace"]).args(cargo_args);
    let emulator = match std::env::var("BIGQUERY_EMULATOR_HOST") {
        Ok(host) if !host.is_empty() => {
            eprintln!("using the BigQuery emulator at {host}");
            None
        }
        _ => match Emulator::start() {
            Ok(emulator) => {
                command.env("BIGQUERY_EMULATOR_HOST", &emulator.host);
                Some(emulator)
            }
            Err(reason) => {
                eprintln!("the BigQuery emulator tests will be skipped: {reason}");
                command.env("BIGQUERY_EMULATOR_UNAVAILABLE", reason);
                None
            }
        },
    };
    let status = command.status().context("cannot start cargo test");
    drop(emulator);
    let status = status?;
    if !status.success() {
        bail!("cargo test failed ({status})");
    }
    Ok(())
}

/// A running emulator, stopped when dropped.
struct Emulator {
    host: String,
}

fn script() -> PathBuf {
    project_root().join("scripts/bigquery-emulator.sh")
}

impl Emulator {
    /// Installs (once; later runs reuse the virtualenv) and starts the emulator.
    ///
    /// The script reports its progress and, on failure, the emulator's log on stderr, which
    /// is passed through; the returned reason names the step that failed.
    fn start() -> Result<Emulator, String> {
        let started = std::time::Instant::now();
        let install = Command::new("bash")
            .arg(script())
            .arg("install")
            .stdout(Stdio::null())
            .status()
            .map_err(|error| format!("cannot run {}: {error}", script().display()))?;
        if !install.success() {
            return Err(format!("bigquery-emulator.sh install failed ({install})"));
        }
        let output = Command::new("bash")
            .arg(script())
            .arg("start")
            .stderr(Stdio::inherit())
            .output()
            .map_err(|error| format!("cannot run {}: {error}", script().display()))?;
        if !output.status.success() {
            return Err(format!("bigquery-emulator.sh start failed ({})", output.status));
        }
        let host = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        if host.is_empty() {
            return Err("bigquery-emulator.sh start printed no address".to_owned());
        }
        eprintln!(
            "BigQuery emulator on {host} (installed and started in {:.1}s)",
            started.elapsed().as_secs_f64()
        );
        Ok(Emulator { host })
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let stopped = Command::new("bash").arg(script()).arg("stop").stdout(Stdio::null()).status();
        if !stopped.is_ok_and(|status| status.success()) {
            eprintln!("warning: the BigQuery emulator on {} may still be running", self.host);
        }
    }
}
