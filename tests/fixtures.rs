//! Fixture load and export (README §3.4).

use framework::fixtures::load_directory;
use framework::schema::{analytics, raw};

use crate::util::{TempDir, export, open, query_rows, schedule_directory, settings_in, write_fixture};

#[tokio::test]
async fn the_real_schedule_loads_and_round_trips_byte_for_byte() {
    let first = TempDir::new("schedule-first");
    let warehouse = open(&settings_in(first.path())).await;
    let loaded = load_directory(warehouse.as_ref(), &schedule_directory()).await.unwrap();
    assert_eq!(loaded.len(), 1);
    assert_eq!(loaded[0].rows, 1400);
    let exported = export(warehouse.as_ref(), &raw::NBAC_SCHEDULE, None).await;
    assert_eq!(exported.lines().count(), 1401);
    assert!(
        exported
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("0012400001,20241004/BOSDEN,2024-25,2024-25,2024,2024-10-04,,3,Final,")
    );

    // The canonical export loads into a fresh warehouse and exports to the same bytes.
    let fixture = TempDir::new("schedule-fixture");
    write_fixture(fixture.path(), &raw::NBAC_SCHEDULE, &exported);
    let second = TempDir::new("schedule-second");
    let reloaded = open(&settings_in(second.path())).await;
    load_directory(reloaded.as_ref(), fixture.path()).await.unwrap();
    assert_eq!(export(reloaded.as_ref(), &raw::NBAC_SCHEDULE, None).await, exported);
}

#[tokio::test]
async fn loading_twice_replaces_the_partitions_and_keeps_duplicates() {
    let folder = TempDir::new("load-twice");
    let warehouse = open(&settings_in(folder.path())).await;
    let fixture = TempDir::new("load-twice-fixture");
    write_fixture(
        fixture.path(),
        &analytics::UPCOMING_TEAM_GAME_CONTEXT,
        "team_abbr,game_id,game_date,season_year,opponent_team_abbr,game_total,processed_at\n\
         LAL,20240115_LAL_GSW,2024-01-15,2023,GSW,231.5,2024-01-15T10:00:00Z\n\
         LAL,20240115_LAL_GSW,2024-01-15,2023,GSW,232.5,2024-01-15T11:00:00Z\n\
         GSW,20240115_LAL_GSW,2024-01-15,2023,LAL,231.5,2024-01-15T10:00:00Z\n",
    );
    load_directory(warehouse.as_ref(), fixture.path()).await.unwrap();
    load_directory(warehouse.as_ref(), fixture.path()).await.unwrap();
    let rows = query_rows(
        warehouse.as_ref(),
        "SELECT count(*), sum(game_total) FROM {nba_analytics.upcoming_team_game_context}",
    )
    .await;
    assert_eq!(rows[0][0].as_i64(), Some(3), "the duplicate upstream row is kept, nothing doubles on reload");
    assert_eq!(rows[0][1].as_f64(), Some(695.5));
}

#[tokio::test]
async fn bad_fixture_files_name_the_file_column_and_value() {
    let folder = TempDir::new("bad-fixture");
    let warehouse = open(&settings_in(folder.path())).await;
    let fixture = TempDir::new("bad-fixture-files");
    write_fixture(
        fixture.path(),
        &raw::NBAC_SCHEDULE,
        "game_id,game_date,home_team_score\n1,2024-10-22,lots\n",
    );
    let error = load_directory(warehouse.as_ref(), fixture.path()).await.unwrap_err().to_string();
    assert!(
        error.ends_with("line 2: column home_team_score: invalid value \"lots\": expected a whole number"),
        "{error}"
    );

    std::fs::write(fixture.path().join("nba_raw.nope.csv"), "a\n1\n").unwrap();
    std::fs::remove_file(fixture.path().join("nba_raw.nbac_schedule.csv")).unwrap();
    let error = load_directory(warehouse.as_ref(), fixture.path()).await.unwrap_err().to_string();
    assert!(
        error.ends_with("nba_raw.nope.csv: file name is not <dataset>.<table>.csv of a known table"),
        "{error}"
    );
}
