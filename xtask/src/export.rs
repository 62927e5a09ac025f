//! `cargo xtask export DATASET.TABLE [--date D]`: a table as canonical CSV on stdout.

use anyhow::Context as _;
use chrono::NaiveDate;
use framework::config::Settings;
use framework::fixtures::export_table;
use framework::schema::Table;

use crate::bad_input;

pub async fn run(table_name: &str, date: Option<NaiveDate>, settings: Settings) -> anyhow::Result<()> {
    let table = exported_table(table_name, date)?;
    let warehouse = framework::warehouse::open(&settings).await.context("cannot open the warehouse")?;
    let stdout = std::io::stdout().lock();
    export_table(warehouse.as_ref(), table, date, stdout).await?;
    Ok(())
}

/// The table to export, if the flags name one that can be: `--date` selects a partition, so a
/// table without a partition column refuses it rather than exporting every row as if it were
/// the date's.
fn exported_table(table_name: &str, date: Option<NaiveDate>) -> anyhow::Result<&'static Table> {
    let table = Table::find(table_name).ok_or_else(|| {
        bad_input(format!("unknown table {table_name:?}: expected DATASET.TABLE of the schema"))
    })?;
    if date.is_some() && table.partition.is_none() {
        return Err(bad_input(format!("--date: {table} has no partition column; export it without --date")));
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_selects_a_partition_and_a_table_without_one_refuses_it() {
        let date = "2025-01-15".parse().ok();
        assert_eq!(
            exported_table("nba_analytics.player_game_summary", date).unwrap().name,
            "player_game_summary"
        );
        assert_eq!(
            exported_table("nba_orchestration.circuit_breaker_state", None).unwrap().name,
            "circuit_breaker_state"
        );
        let error = exported_table("nba_orchestration.circuit_breaker_state", date).unwrap_err();
        assert!(error.downcast_ref::<crate::BadInput>().is_some(), "exit code 2");
        assert_eq!(
            error.to_string(),
            "--date: nba_orchestration.circuit_breaker_state has no partition column; export it without --date"
        );
        let error = exported_table("nba_analytics.nope", None).unwrap_err();
        assert_eq!(
            error.to_string(),
            r#"unknown table "nba_analytics.nope": expected DATASET.TABLE of the schema"#
        );
    }
}
