//! The binary's command line: exit codes, one-line errors, and the serial rollback switch.

use std::process::Command;

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_player_game_summary"))
}

fn warehouse_in(folder: &std::path::Path) -> String {
    format!("duckdb:{}", folder.join("warehouse.duckdb").display())
}

fn temporary_folder(name: &str) -> std::path::PathBuf {
    let folder = std::env::temp_dir().join(format!("pgs-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap();
    folder
}

#[test]
fn a_bad_flag_value_is_one_line_and_exit_code_two() {
    let output = binary().args(["--date", "2024-02-30"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("--date"), "{stderr}");
}

#[test]
fn a_bad_environment_value_is_one_line_and_exit_code_two() {
    let output =
        binary().args(["--date", "2024-01-15"]).env("ENABLE_PLAYER_PARALLELIZATION", "yes").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        "error: invalid ENABLE_PLAYER_PARALLELIZATION \"yes\": expected true or false\n"
    );
    let output = binary().args(["--date", "2024-01-15"]).env("PGS_WORKERS", "many").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn parallelization_off_runs_serially_and_a_failed_date_exits_one() {
    let folder = temporary_folder("serial");
    let output = binary()
        .args(["--date", "2024-01-15", "--skip-preflight", "--warehouse", &warehouse_in(&folder)])
        .env("ENABLE_PLAYER_PARALLELIZATION", "false")
        .env("RUST_LOG", "info")
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    let status = binary().args(["--status", "--warehouse", &warehouse_in(&folder)]).output().unwrap();
    std::fs::remove_dir_all(&folder).unwrap();
    assert_eq!(status.status.code(), Some(0));
    let table = String::from_utf8(status.stdout).unwrap();
    let line = table.lines().find(|line| line.starts_with("2024-01-15")).unwrap_or_default();
    assert!(line.contains("failed") && line.ends_with("no entities to process for the date"), "{table}");
    assert!(table.ends_with("PlayerGameSummaryProcessor: 1 dates checkpointed (1 failed)\n"), "{table}");
    // An empty warehouse: no player-game record to process, so the date fails and says why.
    assert!(stderr.contains("Processing 0 player-game records (serial mode)"), "{stderr}");
    assert!(stderr.contains("no entities to process for the date"), "{stderr}");
    assert!(stderr.contains("retry with: player_game_summary --dates 2024-01-15"), "{stderr}");
    assert_eq!(output.status.code(), Some(1));
}

/// DuckDB allows one process per database file: a second run on a file another process holds
/// fails at once with one line naming the file and exit code 1, and writes nothing.
#[test]
fn a_second_process_on_a_held_warehouse_fails_cleanly() {
    let folder = temporary_folder("held");
    let url = warehouse_in(&folder);
    let first =
        binary().args(["--date", "2024-01-15", "--skip-preflight", "--warehouse", &url]).output().unwrap();
    assert_eq!(first.status.code(), Some(1), "an empty warehouse has no records for the date");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let holder = runtime.block_on(async {
        let path = folder.join("warehouse.duckdb").display().to_string();
        framework::warehouse::duckdb::DuckDbWarehouse::open(&path, "").unwrap()
    });
    let second = binary().args(["--date", "2024-01-15", "--warehouse", &url]).output().unwrap();
    drop(holder);
    std::fs::remove_dir_all(&folder).unwrap();
    let stderr = String::from_utf8(second.stderr).unwrap();
    assert_eq!(second.status.code(), Some(1), "{stderr}");
    let error_lines: Vec<&str> = stderr.lines().filter(|line| line.starts_with("error: ")).collect();
    assert_eq!(error_lines.len(), 1, "{stderr}");
    assert!(error_lines[0].contains("warehouse.duckdb"), "{stderr}");
}
