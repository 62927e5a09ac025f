//! `cargo xtask export DATASET.TABLE [--date D]`: a table as canonical CSV on stdout.

use anyhow::Context as _;
use chrono::NaiveDate;
use framework::config::Settings;
use framework::fixtures::export_table;
use framework::schema::Table;

use crate::bad_input;

pub async fn run(table_name: &str, date: Option<NaiveDate>, settings: Settings) -> anyhow::Result<()> {
    let table = Table::find(table_name).ok_or_else(|| {
        bad_input(format!("unknown table {table_name:?}: expected DATASET.TABLE of the schema"))
    })?;
    let warehouse = framework::warehouse::open(&settings).await.context("cannot open the warehouse")?;
    let stdout = std::io::stdout().lock();
    export_table(warehouse.as_ref(), table, date, stdout).await?;
    Ok(())
}
