//! `cargo xtask test`: the whole test suite, as CI runs it.

use std::process::Command;

use anyhow::{Context as _, bail};

use crate::project_root;

pub fn run(cargo_args: &[String]) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .current_dir(project_root())
        .args(["test", "--workspace"])
        .args(cargo_args)
        .status()
        .context("cannot start cargo test")?;
    if !status.success() {
        bail!("cargo test failed ({status})");
    }
    Ok(())
}
