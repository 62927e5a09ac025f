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

/// One bad input of the command line or the environment, and what its error line must name.
struct BadInput {
    arguments: &'static [&'static str],
    environment: &'static [(&'static str, &'static str)],
    /// What the one stderr line must contain: the flag and the value, or a variable followed by
    /// its quoted value (`WAREHOUSE "postgres:x"`), so that naming the wrong variable fails.
    named: &'static [&'static str],
}

const fn flags(arguments: &'static [&'static str], named: &'static [&'static str]) -> BadInput {
    BadInput { arguments, environment: &[], named }
}

/// A bad variable on an otherwise valid `--date` run.
const fn variables(
    environment: &'static [(&'static str, &'static str)],
    named: &'static [&'static str],
) -> BadInput {
    BadInput { arguments: &["--date", "2024-01-15"], environment, named }
}

/// Every flag and variable the binaries accept, each with the bad values a person or a job file
/// could plausibly give it (README "Running a processor" and "Configuration").
const BAD_INPUTS: &[BadInput] = &[
    flags(&[], &["--date", "--start-date", "--dates", "--status"]),
    flags(&["--date", "2024-02-30"], &["--date", "2024-02-30"]),
    flags(&["--date", "yesterday"], &["--date", "yesterday"]),
    flags(&["--date"], &["--date"]),
    flags(&["--date", "2024-01-15", "--date", "2024-01-16"], &["--date"]),
    flags(&["--date", "2024-01-15", "--dates", "2024-01-16"], &["--date", "--dates"]),
    flags(&["--start-date", "2024-01-15"], &["--end-date"]),
    flags(&["--end-date", "2024-01-15"], &["--start-date"]),
    flags(
        &["--start-date", "2024-01-20", "--end-date", "2024-01-10"],
        &["--end-date", "2024-01-10", "2024-01-20"],
    ),
    flags(&["--start-date", "2024-01-15", "--end-date", "2024-1-x"], &["--end-date", "2024-1-x"]),
    flags(&["--date", "2024-01-15", "--all-days"], &["--start-date"]),
    flags(&["--dates", "2024-01-15,nope"], &["--dates", "nope"]),
    flags(&["--dates", ""], &["--dates"]),
    flags(&["--date", "2024-01-15", "--workers", "0"], &["--workers", "'0'"]),
    flags(&["--date", "2024-01-15", "--workers", "abc"], &["--workers", "abc"]),
    flags(&["--date", "2024-01-15", "--workers", "257"], &["--workers", "257"]),
    flags(&["--date", "2024-01-15", "--workers", "-1"], &["--workers", "-1"]),
    flags(&["--date", "2024-01-15", "--workers=-1"], &["--workers", "-1"]),
    flags(&["--date", "2024-01-15", "--warehouse", "sqlite:x"], &["--warehouse", "sqlite:x"]),
    flags(&["--date", "2024-01-15", "--warehouse", "duckdb:"], &["--warehouse", "duckdb:"]),
    flags(&["--date", "2024-01-15", "--frobnicate"], &["--frobnicate"]),
    flags(&["--date", "2024-01-15", "2024-01-16"], &["2024-01-16"]),
    flags(&["--date", "2024-01-15", "--serial=yes"], &["--serial", "yes"]),
    variables(&[("ENABLE_PLAYER_PARALLELIZATION", "yes")], &["ENABLE_PLAYER_PARALLELIZATION \"yes\""]),
    variables(&[("ENABLE_PLAYER_PARALLELIZATION", "")], &["ENABLE_PLAYER_PARALLELIZATION \"\""]),
    variables(&[("PGS_WORKERS", "0")], &["PGS_WORKERS \"0\""]),
    variables(&[("PCF_WORKERS", "abc")], &["PCF_WORKERS \"abc\""]),
    variables(&[("MLFS_WORKERS", "257")], &["MLFS_WORKERS \"257\""]),
    variables(&[("PARALLELIZATION_WORKERS", "-3")], &["PARALLELIZATION_WORKERS \"-3\""]),
    variables(&[("WAREHOUSE", "postgres:x")], &["WAREHOUSE \"postgres:x\""]),
    variables(&[("WAREHOUSE", "duckdb:")], &["WAREHOUSE \"duckdb:\""]),
    variables(&[("WAREHOUSE", "warehouse.duckdb")], &["WAREHOUSE \"warehouse.duckdb\""]),
    variables(&[("DATASET_PREFIX", "a.b")], &["DATASET_PREFIX \"a.b\""]),
    variables(&[("DATASET_PREFIX", "test-")], &["DATASET_PREFIX \"test-\""]),
    variables(&[("CLOUD_RUN_TASK_INDEX", "x")], &["CLOUD_RUN_TASK_INDEX \"x\""]),
    variables(&[("CLOUD_RUN_TASK_INDEX", "-1")], &["CLOUD_RUN_TASK_INDEX \"-1\""]),
    variables(
        &[("CLOUD_RUN_TASK_INDEX", "3"), ("CLOUD_RUN_TASK_COUNT", "3")],
        &["CLOUD_RUN_TASK_INDEX \"3\""],
    ),
    variables(&[("CLOUD_RUN_TASK_COUNT", "many")], &["CLOUD_RUN_TASK_COUNT \"many\""]),
    variables(&[("CLOUD_RUN_TASK_COUNT", "0")], &["CLOUD_RUN_TASK_COUNT \"0\""]),
    variables(&[("BIGQUERY_EMULATOR_HOST", "localhost")], &["BIGQUERY_EMULATOR_HOST \"localhost\""]),
    variables(
        &[("BIGQUERY_EMULATOR_HOST", "localhost:http")],
        &["BIGQUERY_EMULATOR_HOST \"localhost:http\""],
    ),
    variables(&[("BIGQUERY_EMULATOR_HOST", ":9050")], &["BIGQUERY_EMULATOR_HOST \":9050\""]),
    variables(
        &[("RUST_LOG", "info,player_game_summary=loud")],
        &["RUST_LOG \"info,player_game_summary=loud\""],
    ),
];

/// The variables `framework::config` reads: removed from each bad-input run, so that a value in
/// the environment of the test (CI sets `BIGQUERY_EMULATOR_HOST`) cannot change the outcome.
const CONFIGURATION_VARIABLES: [&str; 12] = [
    "ENABLE_PLAYER_PARALLELIZATION",
    "PGS_WORKERS",
    "PCF_WORKERS",
    "MLFS_WORKERS",
    "PARALLELIZATION_WORKERS",
    "WAREHOUSE",
    "DATASET_PREFIX",
    "BIGQUERY_EMULATOR_HOST",
    "CLOUD_RUN_TASK_INDEX",
    "CLOUD_RUN_TASK_COUNT",
    "RUST_LOG",
    "TRIGGERED_BY",
];

/// The binary in `folder`, with none of the configuration variables set.
fn binary_without_configuration(folder: &std::path::Path) -> Command {
    let mut command = binary();
    command.current_dir(folder);
    for variable in CONFIGURATION_VARIABLES {
        command.env_remove(variable);
    }
    command
}

/// Why the run of `output` is not a one-line bad-input error naming every string of `named`.
fn bad_input_mismatch(output: &std::process::Output, named: &[&str]) -> Option<String> {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line_named_everything = stderr.lines().count() == 1
        && stderr.starts_with("error: ")
        && named.iter().all(|name| stderr.contains(name));
    let as_expected = output.status.code() == Some(2) && output.stdout.is_empty() && line_named_everything;
    (!as_expected).then(|| format!("exit {:?}, stderr {stderr:?}", output.status.code()))
}

/// README "Running a processor": a bad flag or environment value exits with code 2 and one line
/// naming the flag or variable and the value, before anything is opened or written.
#[test]
fn every_bad_flag_and_variable_is_one_line_naming_it_and_exit_code_two() {
    let folder = temporary_folder("bad-input");
    let mut mismatches = Vec::new();
    for case in BAD_INPUTS {
        let output = binary_without_configuration(&folder)
            .args(case.arguments)
            .envs(case.environment.iter().copied())
            .output()
            .unwrap();
        if let Some(mismatch) = bad_input_mismatch(&output, case.named) {
            mismatches.push(format!("{:?} {:?}: {mismatch}", case.arguments, case.environment));
        }
    }
    let written: Vec<_> =
        std::fs::read_dir(&folder).unwrap().map(|entry| entry.unwrap().file_name()).collect();
    std::fs::remove_dir_all(&folder).unwrap();
    assert!(
        mismatches.is_empty(),
        "{} of {} cases:\n{}",
        mismatches.len(),
        BAD_INPUTS.len(),
        mismatches.join("\n")
    );
    assert!(written.is_empty(), "bad input wrote {written:?}");
}

/// `std::env::vars` panics on a variable that is not UTF-8: any such variable of the process
/// crashed the binary (exit 101), and one the binary reads must be named, not mangled.
#[test]
fn a_variable_that_is_not_utf8_is_named_or_ignored_not_a_panic() {
    use std::os::unix::ffi::OsStrExt as _;
    let folder = temporary_folder("not-utf8");
    let not_utf8 = std::ffi::OsStr::from_bytes(b"duckdb:\xff.duckdb");
    let output = binary_without_configuration(&folder)
        .args(["--date", "2024-01-15"])
        .env("WAREHOUSE", not_utf8)
        .output()
        .unwrap();
    assert_eq!(bad_input_mismatch(&output, &["WAREHOUSE", "UTF-8"]), None);
    let output = binary_without_configuration(&folder)
        .args(["--date", "2024-01-15"])
        .env("UNRELATED_VARIABLE", not_utf8)
        .env("ENABLE_PLAYER_PARALLELIZATION", "yes")
        .output()
        .unwrap();
    let written = std::fs::read_dir(&folder).unwrap().count();
    std::fs::remove_dir_all(&folder).unwrap();
    assert_eq!(bad_input_mismatch(&output, &["ENABLE_PLAYER_PARALLELIZATION \"yes\""]), None);
    assert_eq!(written, 0, "bad input wrote a warehouse");
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

/// A flag replaces the variables it overrides (README §3.2), so their bad values stop nothing:
/// each run below reaches its date (which fails, the warehouse being empty) instead of exit 2.
#[test]
fn a_flag_replaces_the_variable_it_overrides_bad_value_and_all() {
    let cases: [(&[&str], (&str, &str)); 4] = [
        (&[], ("WAREHOUSE", "postgres:x")),
        (&["--serial"], ("ENABLE_PLAYER_PARALLELIZATION", "yes")),
        (&["--serial"], ("PGS_WORKERS", "many")),
        (&["--workers", "2"], ("PARALLELIZATION_WORKERS", "0")),
    ];
    for (flags, variable) in cases {
        let arguments = [&["--date", "2024-01-15", "--skip-preflight"], flags].concat();
        let (output, stderr, _) = run_then_status("overridden", &arguments, &[variable]);
        assert_eq!(output.status.code(), Some(1), "{flags:?} {variable:?}: {stderr}");
        assert!(stderr.contains("no entities to process for the date"), "{stderr}");
    }
}

/// Runs the binary with `arguments` and `environment` on a new warehouse (logging at `info`),
/// then `--status` on it: the run's output, its stderr and the status table.
fn run_then_status(
    name: &str,
    arguments: &[&str],
    environment: &[(&str, &str)],
) -> (std::process::Output, String, String) {
    let folder = temporary_folder(name);
    let output = binary()
        .args(arguments)
        .args(["--warehouse", &warehouse_in(&folder)])
        .envs(environment.iter().copied())
        .env("RUST_LOG", "info")
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr.clone()).unwrap();
    let status = binary().args(["--status", "--warehouse", &warehouse_in(&folder)]).output().unwrap();
    std::fs::remove_dir_all(&folder).unwrap();
    assert_eq!(status.status.code(), Some(0));
    (output, stderr, String::from_utf8(status.stdout).unwrap())
}

#[test]
fn parallelization_off_runs_serially_and_a_failed_date_exits_one() {
    let (output, stderr, table) = run_then_status(
        "serial",
        &["--date", "2024-01-15", "--skip-preflight"],
        &[("ENABLE_PLAYER_PARALLELIZATION", "false")],
    );
    let line = table.lines().find(|line| line.starts_with("2024-01-15")).unwrap_or_default();
    assert!(line.contains("failed") && line.ends_with("no entities to process for the date"), "{table}");
    assert!(table.ends_with("PlayerGameSummaryProcessor: 1 dates checkpointed (1 failed)\n"), "{table}");
    // An empty warehouse: no player-game record to process, so the date fails and says why.
    assert!(stderr.contains("Processing 0 player-game records (serial mode)"), "{stderr}");
    assert!(stderr.contains("no entities to process for the date"), "{stderr}");
    assert!(stderr.contains("retry with: player_game_summary --dates 2024-01-15"), "{stderr}");
    assert_eq!(output.status.code(), Some(1));
}

/// Cloud Run keeps each stderr line as the log entry's text: without a terminal the lines carry
/// no colour codes, so `INFO` and the timestamp read (and match) as written.
#[test]
fn logs_to_a_pipe_are_plain_text() {
    let (_, stderr, _) = run_then_status("plain-logs", &["--date", "2024-01-15", "--skip-preflight"], &[]);
    assert!(
        stderr.contains(" INFO Processing 0 player-game records with 10 workers (parallel mode)"),
        "{stderr}"
    );
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
}

/// `--status` with dates lists the checkpoints of those dates only.
#[test]
fn status_with_dates_lists_only_those() {
    let folder = temporary_folder("status-dates");
    let warehouse = warehouse_in(&folder);
    let run = binary()
        .args(["--dates", "2024-01-15,2024-01-16", "--skip-preflight", "--warehouse", &warehouse])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1), "both dates fail: the warehouse is empty");
    let status = |dates: &[&str]| {
        let output = binary().arg("--status").args(dates).args(["--warehouse", &warehouse]).output().unwrap();
        assert_eq!(output.status.code(), Some(0));
        String::from_utf8(output.stdout).unwrap()
    };
    let one = status(&["--date", "2024-01-16"]);
    assert_eq!(one.lines().filter(|line| line.starts_with("2024-01-")).count(), 1, "{one}");
    assert!(one.contains("2024-01-16  failed"), "{one}");
    assert!(one.ends_with("PlayerGameSummaryProcessor: 1 dates checkpointed (1 failed)\n"), "{one}");
    let none = status(&["--date", "2024-01-17"]);
    assert!(none.ends_with("PlayerGameSummaryProcessor: 0 dates checkpointed\n"), "{none}");
    assert!(status(&[]).ends_with("PlayerGameSummaryProcessor: 2 dates checkpointed (2 failed)\n"));
    std::fs::remove_dir_all(&folder).unwrap();
}

/// A date repeated in `--dates` runs once: twice, the second pass found the date's inputs
/// taken and the run's bookkeeping was refused for a repeated key, losing its history.
#[test]
fn a_repeated_date_runs_once_and_is_recorded() {
    let (output, stderr, table) =
        run_then_status("repeated", &["--dates", "2024-01-15,2024-01-15", "--skip-preflight"], &[]);
    assert_eq!(stderr.matches("Processing 0 player-game records").count(), 1, "{stderr}");
    assert!(!stderr.contains("cannot write run history"), "{stderr}");
    assert!(table.ends_with("PlayerGameSummaryProcessor: 1 dates checkpointed (1 failed)\n"), "{table}");
    assert_eq!(output.status.code(), Some(1), "an empty warehouse has no records for the date");
}

/// A dry run writes nothing (README §3.1): it opens the file read-only, so a missing file is an
/// error instead of a new warehouse, and an existing one keeps its bytes.
#[test]
fn a_dry_run_leaves_the_warehouse_file_as_it_was() {
    let folder = temporary_folder("dry-run");
    let path = folder.join("warehouse.duckdb");
    let dry_run = || {
        binary()
            .args(["--date", "2024-01-15", "--dry-run", "--warehouse", &warehouse_in(&folder)])
            .output()
            .unwrap()
    };
    let missing = dry_run();
    let missing_stderr = String::from_utf8(missing.stderr).unwrap();
    let created_by_dry_run = path.exists();
    binary()
        .args(["--date", "2024-01-15", "--skip-preflight", "--warehouse", &warehouse_in(&folder)])
        .output()
        .unwrap();
    let before = std::fs::read(&path).unwrap();
    let existing = dry_run();
    let after = std::fs::read(&path).unwrap();
    let files: Vec<_> = std::fs::read_dir(&folder).unwrap().map(|entry| entry.unwrap().file_name()).collect();
    std::fs::remove_dir_all(&folder).unwrap();

    assert_eq!(missing.status.code(), Some(1), "{missing_stderr}");
    assert!(
        missing_stderr.lines().any(|line| line.starts_with("error: ") && line.contains("warehouse.duckdb")),
        "{missing_stderr}"
    );
    assert!(!created_by_dry_run);
    assert_eq!(existing.status.code(), Some(0), "{}", String::from_utf8_lossy(&existing.stderr));
    assert!(before == after, "the dry run changed the file");
    assert_eq!(files, vec![std::ffi::OsString::from("warehouse.duckdb")], "no write-ahead log either");
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

/// `--version` names this binary and its own version (every binary printed "framework 0.1.0"),
/// and the commit when the build named one.
#[test]
fn version_names_the_binary() {
    let output = binary().arg("--version").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let printed = String::from_utf8(output.stdout).unwrap();
    let expected = concat!("player_game_summary ", env!("CARGO_PKG_VERSION"));
    match option_env!("BUILD_COMMIT").map(str::trim).filter(|commit| !commit.is_empty()) {
        Some(commit) => assert_eq!(printed, format!("{expected} (commit {commit})\n")),
        None => assert_eq!(printed, format!("{expected}\n")),
    }
}
