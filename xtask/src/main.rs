//! `cargo xtask <task>`: the project's developer and operator tasks (the cargo-xtask convention).
//!
//! Every task and flag is declared here; each task lives in its own module. Exit codes follow the
//! binaries: 0 done, 1 failed, 2 bad input.

#[cfg_attr(not(test), allow(dead_code, unused_imports))]
mod demo;
mod export;
mod load;
mod test;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use framework::config::{Settings, WarehouseUrl};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "Project tasks")]
struct Flags {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Load every <dataset>.<table>.csv of DIR into the warehouse.
    Load {
        directory: PathBuf,
        /// duckdb:PATH or bigquery:PROJECT (default: WAREHOUSE, else duckdb:warehouse.duckdb).
        #[arg(long)]
        warehouse: Option<WarehouseUrl>,
    },
    /// Write DATASET.TABLE as CSV to stdout, columns in schema order, rows sorted by key.
    Export {
        table: String,
        /// Only this partition date.
        #[arg(long)]
        date: Option<NaiveDate>,
        #[arg(long)]
        warehouse: Option<WarehouseUrl>,
    },
    /// Run the test suite (`cargo test --workspace`), with what the tests need.
    Test {
        /// Arguments passed on to `cargo test`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        cargo_args: Vec<String>,
    },
}

fn main() -> ExitCode {
    let flags = match Flags::try_parse() {
        Ok(flags) => flags,
        Err(error) if !error.use_stderr() => {
            let _ = error.print();
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            let message = error.to_string();
            eprintln!("{}", message.lines().next().unwrap_or("error: invalid arguments"));
            return ExitCode::from(2);
        }
    };
    match run(flags.task) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            if error.downcast_ref::<BadInput>().is_some() { ExitCode::from(2) } else { ExitCode::FAILURE }
        }
    }
}

/// An error in what the user gave (a flag, a variable, an input file): exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct BadInput(String);

/// Marks an error as the user's input being wrong.
fn bad_input(error: impl std::fmt::Display) -> anyhow::Error {
    BadInput(error.to_string()).into()
}

fn run(task: Task) -> anyhow::Result<()> {
    match task {
        Task::Load { directory, warehouse } => block_on(load::run(&directory, settings(warehouse)?)),
        Task::Export { table, date, warehouse } => block_on(export::run(&table, date, settings(warehouse)?)),
        Task::Test { cargo_args } => test::run(&cargo_args),
    }
}

/// Settings from the environment, with `--warehouse` taking precedence.
fn settings(warehouse: Option<WarehouseUrl>) -> anyhow::Result<Settings> {
    let mut settings = Settings::from_env().map_err(bad_input)?;
    if let Some(url) = warehouse {
        settings.warehouse = url;
    }
    Ok(settings)
}

fn block_on<F: std::future::Future<Output = anyhow::Result<()>>>(future: F) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")?
        .block_on(future)
}

/// The workspace root, from this crate's manifest directory.
fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace root").to_owned()
}
