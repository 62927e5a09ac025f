//! `cargo xtask load DIR`: fixture files into the warehouse (README §3.4).

use std::path::Path;

use anyhow::Context as _;
use framework::config::Settings;
use framework::fixtures::{FixtureError, load_directory};

use crate::bad_input;

pub async fn run(directory: &Path, settings: Settings) -> anyhow::Result<()> {
    let warehouse = framework::warehouse::open(&settings).await.context("cannot open the warehouse")?;
    let loaded = load_directory(warehouse.as_ref(), directory).await.map_err(|error| match error {
        FixtureError::Warehouse { .. } | FixtureError::Write(_) => anyhow::Error::new(error),
        input_error => bad_input(input_error),
    })?;
    for file in &loaded {
        eprintln!("loaded {} rows into {}", file.rows, file.table);
    }
    eprintln!("loaded {} files from {}", loaded.len(), directory.display());
    Ok(())
}
