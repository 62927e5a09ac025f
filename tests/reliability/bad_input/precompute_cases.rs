//! The cases Player Composite Factors and the ML Feature Store share. Both compute one row per
//! UPGC player of the demo date from per-date upstream tables, so the same loops (a NULL, an
//! extreme number, NaN and ±inf in every column read; duplicate upstream keys; dates out of
//! season; missing tables) run on either through [`PrecomputeCase`], which each of [`super::pcf`]
//! and [`super::mlfs`] implements once. Those files keep their thin tests, what differs (tables,
//! expected counts and messages) and the cases only one processor has.

use chrono::{NaiveDate, TimeZone as _, Utc};
use framework::schema::analytics::UPCOMING_PLAYER_GAME_CONTEXT;
use framework::schema::orchestration::REPROCESS_ATTEMPTS;
use framework::schema::precompute::PLAYER_COMPOSITE_FACTORS;
use framework::schema::{ColumnType, Table};
use framework::{Processor, Query, ToValue, Value};

use super::*;

/// UPGC players of [`DEMO_DATE`].
pub const PLAYERS: usize = 331;
/// The player every case spoils: GSW at BOS on [`DEMO_DATE`], age 35, production ready.
pub const PLAYER: &str = "aaronrobinson";
/// The opponent of [`PLAYER`] on [`DEMO_DATE`].
pub const OPPONENT: &str = "BOS";
/// GSW's final game before [`DEMO_DATE`]: in the schedule PCF reads for completeness, and the
/// game of the history row MLFS reads for [`PLAYER`].
pub const EARLIER_DATE: &str = "2024-11-04";
pub const EARLIER_SCHEDULE_ID: &str = "0022400155";

/// What the shared cases need to know of a processor besides running it: where the row of
/// [`PLAYER`] (or of his team, opponent or earlier game) is in each table it reads, and how its
/// output is checked.
pub trait PrecomputeCase: Processor {
    /// Every table the processor reads with the columns it reads from it (its
    /// `extract::COLUMNS_READ`): the columns the cases spoil one at a time.
    const COLUMNS_READ: &'static [(&'static Table, &'static [&'static str])];
    /// The tables read for the date itself, which a case moves to another date whole.
    const DATED_TABLES: &'static [&'static Table];
    /// The `processor_name` the processor looks its reprocess attempts up by.
    const REPROCESS_NAME: &'static str;
    /// The output columns without the run stamps, to compare the rows of two runs.
    const COLUMNS_WITHOUT_STAMPS: &'static str;
    /// The `player_lookup` of every output row of [`DEMO_DATE`] outside the documented ranges.
    const ROWS_OUT_OF_RANGE: &'static str;

    /// The date and (column, value) of the row a case spoils in `table`.
    fn target_row(table: &Table) -> (&'static str, &'static str, &'static str);

    /// Stores what the processor needs besides the demo fixture and its PGS rows; nothing by
    /// default.
    async fn prepare(_bench: &DemoBench) {}
}

/// The demo bench of one processor: spoils a row of [`PLAYER`], runs the processor and reads
/// back its output.
pub struct PrecomputeBench<P> {
    pub demo: DemoBench,
    processor: P,
}

impl<P: PrecomputeCase> PrecomputeBench<P> {
    pub async fn new(processor: P, name: &str) -> Self {
        let demo = DemoBench::new(name).await;
        P::prepare(&demo).await;
        PrecomputeBench { demo, processor }
    }

    /// The rows of `table` a case starts from, and the index of the row it spoils.
    pub async fn rows_to_spoil(&self, table: &'static Table) -> (NaiveDate, Vec<Vec<Value>>, usize) {
        let (date, column, value) = P::target_row(table);
        let mut rows = self.demo.rows(table, date).await;
        if table == &REPROCESS_ATTEMPTS {
            rows.push(tripped_attempt::<P>());
        }
        let index = position(table, &rows, column, value);
        (day(date), rows, index)
    }

    /// Runs the processor on [`DEMO_DATE`] with `edits` (see [`DemoBench::run_case`]).
    pub async fn run(&self, edits: Vec<Edit>) -> Outcome {
        self.run_case(DEMO_DATE, edits, |_| {}).await
    }

    pub async fn run_case(
        &self,
        date: &str,
        edits: Vec<Edit>,
        adjust: impl FnOnce(&mut RunOptions),
    ) -> Outcome {
        self.demo.run_case(&self.processor, date, edits, adjust).await
    }

    pub async fn rows_out_of_range(&self) -> Vec<Vec<Value>> {
        query_rows(self.demo.warehouse(), P::ROWS_OUT_OF_RANGE).await
    }

    /// `columns` of the output row of `player` on [`DEMO_DATE`] (none when the player failed).
    pub async fn player_row(&self, player: &str, columns: &str) -> Vec<Vec<Value>> {
        let output = self.processor.info().output;
        self.demo
            .warehouse()
            .query(
                &Query::new(format!(
                    "SELECT {columns} FROM {{{output}}} WHERE game_date = '2024-11-06' AND player_lookup = @player"
                ))
                .bind("player", player),
            )
            .await
            .expect("the row reads")
            .rows
    }

    /// The demo date's rows of the processor's [`PrecomputeCase::DATED_TABLES`], moved to `date`.
    async fn demo_rows_moved_to(&self, date: &str) -> Vec<Edit> {
        let mut edits = Vec::new();
        for &table in P::DATED_TABLES {
            let partition = table.partition.expect("partitioned");
            let mut rows = self.demo.rows(table, DEMO_DATE).await;
            for row in &mut rows {
                set_cell(table, row, partition, day(date).to_value());
            }
            edits.push(Edit { table, date: day(date), rows });
        }
        edits
    }
}

/// A tripped circuit breaker for [`PLAYER`] that ends long after any run of this suite: the
/// fixture has no reprocess attempts, so the cases of that table start from this one.
fn tripped_attempt<P: PrecomputeCase>() -> Vec<Value> {
    let attempted = Utc.with_ymd_and_hms(2024, 11, 6, 12, 0, 0).unwrap();
    REPROCESS_ATTEMPTS.row(vec![
        ("processor_name", P::REPROCESS_NAME.to_value()),
        ("entity_id", PLAYER.to_value()),
        ("analysis_date", day(DEMO_DATE).to_value()),
        ("attempt_number", Value::Int(3)),
        ("attempted_at", attempted.to_value()),
        ("circuit_breaker_tripped", Value::Bool(true)),
        ("circuit_breaker_until", Utc.with_ymd_and_hms(2099, 1, 1, 0, 0, 0).unwrap().to_value()),
        ("created_at", attempted.to_value()),
    ])
}

/// The date succeeded and every player of it got a row.
pub fn all_computed(outcome: &Outcome) {
    outcome.assert_accounted();
    assert_eq!(outcome.counts(), (PLAYERS, PLAYERS as i64, 0), "{outcome:?}");
}

pub async fn the_unspoiled_date_computes_every_player_within_range<P: PrecomputeCase>(
    bench: &PrecomputeBench<P>,
) {
    all_computed(&bench.run(Vec::new()).await);
    assert_eq!(bench.rows_out_of_range().await, Vec::<Vec<Value>>::new());
}

/// Spoils every column read with a NULL, one at a time; `columns_tried` pins how many there are,
/// so a column added to the processor's reads is noticed here.
pub async fn a_null_in_any_column_read_defaults_or_fails_one_player<P: PrecomputeCase>(
    bench: &PrecomputeBench<P>,
    columns_tried: usize,
) {
    let mut tried = 0;
    for &(table, columns) in P::COLUMNS_READ {
        for column in columns {
            let (date, mut rows, index) = bench.rows_to_spoil(table).await;
            set_cell(table, &mut rows[index], column, Value::Null);
            let definition = table.column(column).expect("the processor reads columns of the schema");
            tried += 1;
            if table.enforces_not_null(definition) {
                // Key columns are NOT NULL in the warehouse: the bad row never gets in.
                let refused = bench.demo.store(table, date, rows).await.unwrap_err().to_string();
                assert!(refused.contains("NOT NULL constraint failed"), "{table}.{column}: {refused}");
                continue;
            }
            let outcome = bench.run(vec![Edit { table, date, rows }]).await;
            outcome.assert_accounted();
            let case = format!("{table}.{column}: {outcome:?}");
            match (table.name, *column) {
                ("upcoming_player_game_context", "game_id") => assert_eq!(
                    outcome.only_failure(),
                    ("MISSING_DATA", "No game_id in upcoming_player_game_context"),
                    "{case}"
                ),
                // Without an end or a tripped flag the breaker is closed; otherwise it holds.
                ("reprocess_attempts", "circuit_breaker_tripped" | "circuit_breaker_until") => {
                    assert_eq!(outcome.counts(), (PLAYERS, PLAYERS as i64, 0), "{case}")
                }
                ("reprocess_attempts", _) => {
                    assert_eq!(outcome.failures[0].0, PLAYER, "{case}");
                    assert_eq!(
                        outcome.only_failure(),
                        ("CIRCUIT_BREAKER_ACTIVE", "Circuit breaker active until 2099-01-01 00:00:00+00:00"),
                        "{case}"
                    );
                }
                _ => assert_eq!(outcome.counts(), (PLAYERS, PLAYERS as i64, 0), "{case}"),
            }
            assert_eq!(bench.rows_out_of_range().await, Vec::<Vec<Value>>::new(), "{case}");
        }
    }
    assert_eq!(tried, P::COLUMNS_READ.iter().map(|(_, columns)| columns.len()).sum::<usize>());
    assert_eq!(tried, columns_tried);
}

/// Every column read but the keys (a case spoils a value, not which row it is), with its type,
/// table by table in the order of [`PrecomputeCase::COLUMNS_READ`].
fn non_key_columns_read<P: PrecomputeCase>()
-> impl Iterator<Item = (&'static Table, &'static str, ColumnType)> {
    P::COLUMNS_READ.iter().flat_map(|&(table, columns)| {
        columns.iter().filter(|column| !table.key.contains(*column)).map(move |&column| {
            let column_type =
                table.column(column).expect("the processor reads columns of the schema").column_type;
            (table, column, column_type)
        })
    })
}

/// Spoils every non-key column read with the largest magnitudes its type holds, one at a time;
/// `values_tried` pins how many cases that makes.
pub async fn extremely_large_numbers_in_any_column_read_stay_in_range<P: PrecomputeCase>(
    bench: &PrecomputeBench<P>,
    values_tried: usize,
) {
    let mut tried = 0;
    for (table, column, column_type) in non_key_columns_read::<P>() {
        for value in extremes(column_type) {
            let (date, mut rows, index) = bench.rows_to_spoil(table).await;
            set_cell(table, &mut rows[index], column, value.clone());
            let outcome = bench.run(vec![Edit { table, date, rows }]).await;
            outcome.assert_accounted();
            let case = format!("{table}.{column} = {value:?}: {outcome:?}");
            if table == &REPROCESS_ATTEMPTS {
                assert_eq!(outcome.only_failure().0, "CIRCUIT_BREAKER_ACTIVE", "{case}");
            } else {
                assert_eq!(outcome.counts(), (PLAYERS, PLAYERS as i64, 0), "{case}");
            }
            assert_eq!(bench.rows_out_of_range().await, Vec::<Vec<Value>>::new(), "{case}");
            tried += 1;
        }
    }
    assert_eq!(tried, values_tried);
}

/// The warehouse stores a non-finite float as NULL (README §4 item 9), so the processor meets
/// NaN and ±inf as missing values: the player's row must be exactly his row with a NULL there.
/// `values_tried` pins how many cases that makes.
pub async fn nan_and_infinities_in_any_number_read_give_the_row_of_a_null<P: PrecomputeCase>(
    bench: &PrecomputeBench<P>,
    values_tried: usize,
) {
    let mut tried = 0;
    for (table, column, column_type) in non_key_columns_read::<P>() {
        if !matches!(column_type, ColumnType::Numeric { .. } | ColumnType::Float64) {
            continue;
        }
        let mut rows_by_value = Vec::new();
        for value in [
            Value::Null,
            Value::Float(f64::NAN),
            Value::Float(f64::INFINITY),
            Value::Float(f64::NEG_INFINITY),
        ] {
            let (date, mut rows, index) = bench.rows_to_spoil(table).await;
            set_cell(table, &mut rows[index], column, value.clone());
            all_computed(&bench.run(vec![Edit { table, date, rows }]).await);
            rows_by_value.push((value, bench.player_row(PLAYER, P::COLUMNS_WITHOUT_STAMPS).await));
            tried += 1;
        }
        let (_, null_row) = &rows_by_value[0];
        for (value, row) in &rows_by_value[1..] {
            assert_eq!(row, null_row, "{table}.{column} = {value:?}");
        }
    }
    assert_eq!(tried, values_tried);
}

/// A second copy of the spoilt row of `table`, stamped later, with `column` set to
/// `newer_value`: the output expression `shown_by` gives `shown` once the copy has won.
pub struct NewerCopy {
    pub table: &'static Table,
    pub column: &'static str,
    pub newer_value: Value,
    pub shown_by: &'static str,
    pub shown: Value,
}

/// Each newer copy wins whether it comes after the older row, before it, or after an older row
/// without a stamp. Both processors carry UPGC's `universal_player_id` into their output as
/// read, so that copy is tried on either before the processor's own `copies`.
pub async fn of_duplicate_upstream_keys_the_latest_processed_at_wins_in_either_order<P: PrecomputeCase>(
    bench: &PrecomputeBench<P>,
    copies: Vec<NewerCopy>,
) {
    let player_id = NewerCopy {
        table: &UPCOMING_PLAYER_GAME_CONTEXT,
        column: "universal_player_id",
        newer_value: text("newer_001"),
        shown_by: "universal_player_id",
        shown: text("newer_001"),
    };
    for NewerCopy { table, column, newer_value, shown_by, shown } in std::iter::once(player_id).chain(copies)
    {
        // The processed_at of a PCF row is the run's stamp: the newer copy must be later still.
        let later = if table == &PLAYER_COMPOSITE_FACTORS {
            Utc.with_ymd_and_hms(2099, 1, 1, 0, 0, 0).unwrap().to_value()
        } else {
            Utc.with_ymd_and_hms(2024, 11, 6, 11, 0, 0).unwrap().to_value()
        };
        for (newer_first, older_stamp) in [(false, None), (true, None), (false, Some(Value::Null))] {
            let (date, mut rows, index) = bench.rows_to_spoil(table).await;
            let mut newer = rows[index].clone();
            set_cell(table, &mut newer, column, newer_value.clone());
            set_cell(table, &mut newer, "processed_at", later.clone());
            if let Some(stamp) = older_stamp {
                set_cell(table, &mut rows[index], "processed_at", stamp);
            }
            if newer_first {
                rows.insert(0, newer);
            } else {
                rows.push(newer);
            }
            all_computed(&bench.run(vec![Edit { table, date, rows }]).await);
            assert_eq!(bench.player_row(PLAYER, shown_by).await, vec![vec![shown.clone()]], "{table}");
        }
    }
    // Every UPGC row twice: still one row per player.
    let rows = bench.demo.rows(&UPCOMING_PLAYER_GAME_CONTEXT, DEMO_DATE).await;
    let doubled = rows.iter().chain(&rows).cloned().collect();
    let edits = vec![Edit { table: &UPCOMING_PLAYER_GAME_CONTEXT, date: day(DEMO_DATE), rows: doubled }];
    all_computed(&bench.run(edits).await);
}

pub async fn dates_out_of_season_are_computed_from_their_rows_or_skipped_early<P: PrecomputeCase>(
    bench: &PrecomputeBench<P>,
) {
    // The off-season, and dates far from any schedule: computed from the rows found.
    for date in ["2024-08-15", "1950-01-02", "2999-12-31"] {
        let edits = bench.demo_rows_moved_to(date).await;
        all_computed(&bench.run_case(date, edits, |_| {}).await);
    }
    // Inside the first 14 days of the season: skipped, and said so (the reference reported PCF's
    // as a failure, reference-framework.md §14 item 3).
    let edits = bench.demo_rows_moved_to("2024-10-25").await;
    let outcome = bench.run_case("2024-10-25", edits, |_| {}).await;
    assert_eq!(outcome.status, DateStatus::Skipped { reason: "early_season".to_owned() });
    assert_eq!(
        (outcome.history.status.as_str(), outcome.history.skip_reason.as_deref(), outcome.rows),
        ("skipped", Some("early_season"), 0)
    );
}

/// A date with no rows fails the preflight with `missing_all` and, past it, has no entity. With
/// `empty_tables` emptied on [`DEMO_DATE`] the preflight fails with `missing_some`; past it,
/// every player is computed with the defaults.
pub async fn an_empty_date_and_a_date_with_some_tables_fail_or_compute_with_defaults<P: PrecomputeCase>(
    bench: &PrecomputeBench<P>,
    missing_all: &str,
    empty_tables: &[&'static Table],
    missing_some: &str,
) {
    let empty_date = "2024-11-08";
    let outcome = bench.run_case(empty_date, Vec::new(), |_| {}).await;
    outcome.assert_failed(missing_all);
    assert_eq!(outcome.rows, 0);
    let outcome = bench.run_case(empty_date, Vec::new(), |options| options.skip_preflight = true).await;
    outcome.assert_failed("no entities to process for the date");

    let some_tables = || -> Vec<Edit> {
        empty_tables.iter().map(|&table| Edit { table, date: day(DEMO_DATE), rows: Vec::new() }).collect()
    };
    bench.run(some_tables()).await.assert_failed(missing_some);
    let outcome = bench.run_case(DEMO_DATE, some_tables(), |options| options.skip_preflight = true).await;
    all_computed(&outcome);
    assert_eq!(bench.rows_out_of_range().await, Vec::<Vec<Value>>::new());
}

/// Everything but UPGC: past the preflight there is no player to compute, and the rows of the
/// previous run stay.
pub async fn a_date_without_players_fails_and_keeps_the_earlier_rows<P: PrecomputeCase>(
    bench: &PrecomputeBench<P>,
) {
    let edits = vec![Edit { table: &UPCOMING_PLAYER_GAME_CONTEXT, date: day(DEMO_DATE), rows: Vec::new() }];
    let outcome = bench.run_case(DEMO_DATE, edits, |options| options.skip_preflight = true).await;
    outcome.assert_failed("no entities to process for the date");
    assert_eq!(outcome.rows, PLAYERS as i64);
}
