//! Environment → validated [`Settings`] (README §3.2).
//!
//! Only this module reads the environment, through [`Settings::from_env`]; everything else gets
//! a `Settings`. [`Settings::from_map`] takes the variables as a map, so tests never touch the
//! process environment. Invalid values are errors naming the variable and the value — never a
//! silent fallback (the reference crashed on `int()` or quietly went serial, reference-framework.md
//! §14 item 16).

use std::collections::HashMap;
use std::str::FromStr;

use serde::Deserialize;

/// Worker count when no variable of the chain is set (the reference's default).
pub const DEFAULT_WORKERS: usize = 10;

/// Upper bound on workers: more threads than this on one date only adds contention.
const MAX_WORKERS: usize = 256;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("invalid {variable} {value:?}: {expected}")]
    Invalid { variable: &'static str, value: String, expected: &'static str },
    #[error("cannot read the environment: {0}")]
    Environment(String),
    /// A variable the binaries read holds bytes that are not UTF-8; shown lossily.
    #[error("invalid {variable} {value:?}: expected UTF-8 text")]
    NotUnicode { variable: String, value: String },
}

/// Where the warehouse lives: `duckdb:PATH` or `bigquery:PROJECT`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WarehouseUrl {
    DuckDb { path: String },
    BigQuery { project: String },
}

impl FromStr for WarehouseUrl {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.split_once(':') {
            Some(("duckdb", path)) if !path.is_empty() => Ok(WarehouseUrl::DuckDb { path: path.to_owned() }),
            Some(("bigquery", project)) if !project.is_empty() => {
                Ok(WarehouseUrl::BigQuery { project: project.to_owned() })
            }
            _ => Err("expected duckdb:PATH or bigquery:PROJECT".to_owned()),
        }
    }
}

/// The validated configuration of one process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// `ENABLE_PLAYER_PARALLELIZATION`: false is the instant-rollback serial path.
    pub parallel: bool,
    /// Per-processor worker variables (`PGS_WORKERS`, …) that were set, by name.
    processor_workers: HashMap<&'static str, usize>,
    /// `PARALLELIZATION_WORKERS`, the fallback of every processor.
    global_workers: Option<usize>,
    pub warehouse: WarehouseUrl,
    /// `DATASET_PREFIX`, prepended to every dataset name (`test_` → `test_nba_raw`).
    pub dataset_prefix: String,
    /// `BIGQUERY_EMULATOR_HOST` (`host:port`).
    pub bigquery_emulator_host: Option<String>,
    /// `CLOUD_RUN_TASK_INDEX` / `CLOUD_RUN_TASK_COUNT`: date `i` of a list goes to task `i mod count`.
    pub task_index: usize,
    pub task_count: usize,
    /// `K_SERVICE` (Cloud Run), else `HOSTNAME`, else `local`: run history's `execution_host`.
    pub execution_host: String,
    /// Run history's `cloud_run_service`: `K_SERVICE` of a Cloud Run service, else
    /// `CLOUD_RUN_JOB`, the job's name (jobs set no `K_SERVICE`), else `None`.
    pub cloud_run_service: Option<String>,
    /// Run history's `cloud_run_revision`: `K_REVISION`, else `CLOUD_RUN_EXECUTION`, the
    /// execution whose logs hold the run's lines.
    pub cloud_run_revision: Option<String>,
    /// `TRIGGERED_BY`, else `manual`.
    pub triggered_by: String,
    /// `RUST_LOG`, checked to be a tracing filter; `None` when unset or empty (each caller has
    /// its own default level).
    pub log_filter: Option<String>,
}

/// The per-processor worker variables of the chain `X_WORKERS` → `PARALLELIZATION_WORKERS` → 10.
pub const PROCESSOR_WORKER_VARIABLES: [&str; 3] = ["PGS_WORKERS", "PCF_WORKERS", "MLFS_WORKERS"];

#[derive(Deserialize)]
struct RawEnvironment {
    enable_player_parallelization: Option<String>,
    pgs_workers: Option<String>,
    pcf_workers: Option<String>,
    mlfs_workers: Option<String>,
    parallelization_workers: Option<String>,
    warehouse: Option<String>,
    dataset_prefix: Option<String>,
    bigquery_emulator_host: Option<String>,
    cloud_run_task_index: Option<String>,
    cloud_run_task_count: Option<String>,
    k_service: Option<String>,
    k_revision: Option<String>,
    cloud_run_job: Option<String>,
    cloud_run_execution: Option<String>,
    hostname: Option<String>,
    triggered_by: Option<String>,
    rust_log: Option<String>,
}

impl Settings {
    /// Reads the process environment.
    ///
    /// # Errors
    /// A variable with an invalid value, named in the error.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_env_except(&[])
    }

    /// [`Settings::from_env`] without the variables `overridden` names: a command-line flag
    /// replaces them (README §3.2), so their values are not read and a bad one stops nothing.
    ///
    /// # Errors
    /// Another variable read has an invalid value, named in the error.
    pub fn from_env_except(overridden: &[&str]) -> Result<Self, ConfigError> {
        let variables =
            std::env::vars_os().filter(|(name, _)| !overridden.iter().any(|flagged| name == flagged));
        Self::from_map(unicode_variables(variables)?)
    }

    /// Reads the variables from `variables` (name, value) pairs; unknown names are ignored.
    ///
    /// # Errors
    /// A variable with an invalid value, named in the error.
    pub fn from_map<I>(variables: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (String, String)>,
    {
        let raw: RawEnvironment =
            envy::from_iter(variables).map_err(|error| ConfigError::Environment(error.to_string()))?;
        let parallel = match raw.enable_player_parallelization {
            None => true,
            Some(value) => parse_bool("ENABLE_PLAYER_PARALLELIZATION", &value)?,
        };
        let mut processor_workers = HashMap::new();
        for (variable, value) in
            PROCESSOR_WORKER_VARIABLES.into_iter().zip([raw.pgs_workers, raw.pcf_workers, raw.mlfs_workers])
        {
            if let Some(value) = value {
                processor_workers.insert(variable, parse_workers(variable, &value)?);
            }
        }
        let global_workers = raw
            .parallelization_workers
            .map(|value| parse_workers("PARALLELIZATION_WORKERS", &value))
            .transpose()?;
        let warehouse_text = raw.warehouse.unwrap_or_else(|| "duckdb:warehouse.duckdb".to_owned());
        let warehouse = warehouse_text.parse().map_err(|_| ConfigError::Invalid {
            variable: "WAREHOUSE",
            value: warehouse_text.clone(),
            expected: "expected duckdb:PATH or bigquery:PROJECT",
        })?;
        let dataset_prefix = raw.dataset_prefix.unwrap_or_default();
        if !dataset_prefix.chars().all(|character| character.is_ascii_alphanumeric() || character == '_') {
            return Err(ConfigError::Invalid {
                variable: "DATASET_PREFIX",
                value: dataset_prefix,
                expected: "expected letters, digits and underscores",
            });
        }
        let task_count = parse_count("CLOUD_RUN_TASK_COUNT", raw.cloud_run_task_count.as_deref(), 1)?;
        if task_count == 0 {
            return Err(ConfigError::Invalid {
                variable: "CLOUD_RUN_TASK_COUNT",
                value: raw.cloud_run_task_count.unwrap_or_default(),
                expected: "expected a whole number of at least 1",
            });
        }
        let task_index = parse_count("CLOUD_RUN_TASK_INDEX", raw.cloud_run_task_index.as_deref(), 0)?;
        if task_index >= task_count {
            return Err(ConfigError::Invalid {
                variable: "CLOUD_RUN_TASK_INDEX",
                value: raw.cloud_run_task_index.unwrap_or_default(),
                expected: "expected an index below CLOUD_RUN_TASK_COUNT",
            });
        }
        let bigquery_emulator_host = raw.bigquery_emulator_host.filter(|host| !host.is_empty());
        if let Some(host) = &bigquery_emulator_host {
            check_host_and_port(host)?;
        }
        let log_filter = raw.rust_log.filter(|filter| !filter.trim().is_empty());
        if let Some(filter) = &log_filter {
            check_log_filter(filter)?;
        }
        Ok(Settings {
            parallel,
            processor_workers,
            global_workers,
            warehouse,
            dataset_prefix,
            bigquery_emulator_host,
            task_index,
            task_count,
            execution_host: raw.k_service.clone().or(raw.hostname).unwrap_or_else(|| "local".to_owned()),
            cloud_run_service: raw.k_service.or(raw.cloud_run_job),
            cloud_run_revision: raw.k_revision.or(raw.cloud_run_execution),
            triggered_by: raw.triggered_by.unwrap_or_else(|| "manual".to_owned()),
            log_filter,
        })
    }

    /// The worker count of a processor: its own variable, else `PARALLELIZATION_WORKERS`, else 10.
    pub fn workers_for(&self, processor_variable: &str) -> usize {
        self.processor_workers
            .get(processor_variable)
            .copied()
            .or(self.global_workers)
            .unwrap_or(DEFAULT_WORKERS)
    }
}

/// `true`/`false` in any letter case; anything else is an error.
pub fn parse_bool(variable: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ConfigError::Invalid {
            variable,
            value: value.to_owned(),
            expected: "expected true or false",
        }),
    }
}

/// A worker count from 1 to 256.
pub fn parse_workers(variable: &'static str, value: &str) -> Result<usize, ConfigError> {
    match value.trim().parse::<usize>() {
        Ok(count) if (1..=MAX_WORKERS).contains(&count) => Ok(count),
        _ => Err(ConfigError::Invalid {
            variable,
            value: value.to_owned(),
            expected: "expected a whole number from 1 to 256",
        }),
    }
}

/// The process environment as text. `std::env::vars` panics on a name or value that is not
/// UTF-8, which crashed the binaries (exit 101) whatever the variable; here such a variable is
/// skipped unless the binaries read it, and then it is an error naming it.
fn unicode_variables(
    variables: impl IntoIterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
) -> Result<Vec<(String, String)>, ConfigError> {
    let mut unicode = Vec::new();
    for (name, value) in variables {
        let Ok(name) = name.into_string() else { continue };
        match value.into_string() {
            Ok(value) => unicode.push((name, value)),
            Err(value) if read_variables().contains(&name.to_ascii_lowercase().as_str()) => {
                return Err(ConfigError::NotUnicode {
                    variable: name,
                    value: value.to_string_lossy().into_owned(),
                });
            }
            Err(_) => {}
        }
    }
    Ok(unicode)
}

/// The names `RawEnvironment` reads, as envy matches them (lowercase): its field names, asked of
/// its own `Deserialize` implementation, so no hand-kept list can fall out of step with the struct
/// (a variable missing from such a list read as unset when its value was not UTF-8).
fn read_variables() -> &'static [&'static str] {
    /// A deserializer that only records the field names a struct asks for, then stops.
    struct FieldNames(&'static [&'static str]);

    impl<'de> serde::Deserializer<'de> for &mut FieldNames {
        type Error = serde::de::value::Error;

        fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(serde::de::Error::custom("only a struct's field names are asked for"))
        }

        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            self.0 = fields;
            Err(serde::de::Error::custom("the field names are recorded"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
            unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }

    let mut names = FieldNames(&[]);
    let _recorded = RawEnvironment::deserialize(&mut names);
    names.0
}

/// `BIGQUERY_EMULATOR_HOST` is `host:port` (README §3.2); a bare host or a named port would
/// only fail later, as a connection error of the first query (exit 1 instead of 2).
fn check_host_and_port(value: &str) -> Result<(), ConfigError> {
    let valid = value
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok_and(|port| port > 0));
    if valid {
        Ok(())
    } else {
        Err(ConfigError::Invalid {
            variable: "BIGQUERY_EMULATOR_HOST",
            value: value.to_owned(),
            expected: "expected host:port",
        })
    }
}

/// `RUST_LOG` must parse as a tracing filter: the subscriber would otherwise drop a bad filter
/// silently and log at the default level.
fn check_log_filter(value: &str) -> Result<(), ConfigError> {
    match tracing_subscriber::EnvFilter::try_new(value) {
        Ok(_) => Ok(()),
        Err(_) => Err(ConfigError::Invalid {
            variable: "RUST_LOG",
            value: value.to_owned(),
            expected: "expected a tracing filter such as info or player_game_summary=debug",
        }),
    }
}

fn parse_count(variable: &'static str, value: Option<&str>, default: usize) -> Result<usize, ConfigError> {
    match value {
        None => Ok(default),
        Some(text) => text.trim().parse().map_err(|_| ConfigError::Invalid {
            variable,
            value: text.to_owned(),
            expected: "expected a whole number",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        Settings::from_map(pairs.iter().map(|(name, value)| (name.to_string(), value.to_string())))
    }

    #[test]
    fn defaults_are_parallel_ten_workers_local_duckdb() {
        let settings = settings(&[]).unwrap();
        assert!(settings.parallel);
        assert_eq!(settings.workers_for("PCF_WORKERS"), 10);
        assert_eq!(settings.warehouse, WarehouseUrl::DuckDb { path: "warehouse.duckdb".into() });
        assert_eq!(settings.dataset_prefix, "");
        assert_eq!((settings.task_index, settings.task_count), (0, 1));
    }

    /// A Cloud Run job sets `CLOUD_RUN_JOB` and `CLOUD_RUN_EXECUTION`, a service `K_SERVICE` and
    /// `K_REVISION`; run history names whichever ran it, and the host.
    #[test]
    fn run_history_names_the_cloud_run_job_or_service() {
        let local = settings(&[]).unwrap();
        assert_eq!((local.execution_host.as_str(), &local.cloud_run_service), ("local", &None));
        let job = settings(&[
            ("CLOUD_RUN_JOB", "ml-feature-store-daily"),
            ("CLOUD_RUN_EXECUTION", "ml-feature-store-daily-x7k2p"),
            ("HOSTNAME", "localhost"),
        ])
        .unwrap();
        assert_eq!(job.execution_host, "localhost");
        assert_eq!(job.cloud_run_service.as_deref(), Some("ml-feature-store-daily"));
        assert_eq!(job.cloud_run_revision.as_deref(), Some("ml-feature-store-daily-x7k2p"));
        let service =
            settings(&[("K_SERVICE", "pcf"), ("K_REVISION", "pcf-00042"), ("CLOUD_RUN_JOB", "ignored")])
                .unwrap();
        assert_eq!(service.execution_host, "pcf");
        assert_eq!(service.cloud_run_service.as_deref(), Some("pcf"));
        assert_eq!(service.cloud_run_revision.as_deref(), Some("pcf-00042"));
    }

    #[test]
    fn parallelization_flag_is_case_insensitive() {
        assert!(!settings(&[("ENABLE_PLAYER_PARALLELIZATION", "FALSE")]).unwrap().parallel);
        assert!(settings(&[("ENABLE_PLAYER_PARALLELIZATION", "True")]).unwrap().parallel);
    }

    #[test]
    fn a_bad_parallelization_flag_is_an_error_not_a_fallback() {
        let error = settings(&[("ENABLE_PLAYER_PARALLELIZATION", "yes")]).unwrap_err();
        assert_eq!(
            error.to_string(),
            r#"invalid ENABLE_PLAYER_PARALLELIZATION "yes": expected true or false"#
        );
    }

    #[test]
    fn worker_chain_prefers_the_processor_variable() {
        let settings = settings(&[("PCF_WORKERS", "4"), ("PARALLELIZATION_WORKERS", "6")]).unwrap();
        assert_eq!(settings.workers_for("PCF_WORKERS"), 4);
        assert_eq!(settings.workers_for("MLFS_WORKERS"), 6);
        assert_eq!(settings.workers_for("PGS_WORKERS"), 6);
    }

    #[test]
    fn bad_worker_counts_name_the_variable() {
        for bad in ["0", "-1", "ten", "", "1000"] {
            let error = settings(&[("MLFS_WORKERS", bad)]).unwrap_err();
            assert!(error.to_string().starts_with("invalid MLFS_WORKERS"), "{error}");
        }
        let error = settings(&[("PARALLELIZATION_WORKERS", "x")]).unwrap_err();
        assert!(error.to_string().contains("PARALLELIZATION_WORKERS"));
    }

    #[test]
    fn warehouse_urls() {
        let bigquery = settings(&[("WAREHOUSE", "bigquery:nba-props-platform")]).unwrap();
        assert_eq!(bigquery.warehouse, WarehouseUrl::BigQuery { project: "nba-props-platform".into() });
        let error = settings(&[("WAREHOUSE", "postgres:x")]).unwrap_err();
        assert_eq!(
            error.to_string(),
            r#"invalid WAREHOUSE "postgres:x": expected duckdb:PATH or bigquery:PROJECT"#
        );
    }

    #[test]
    fn dataset_prefix_and_task_sharding_are_validated() {
        assert_eq!(settings(&[("DATASET_PREFIX", "test_")]).unwrap().dataset_prefix, "test_");
        assert!(settings(&[("DATASET_PREFIX", "a.b")]).is_err());
        let sharded = settings(&[("CLOUD_RUN_TASK_INDEX", "2"), ("CLOUD_RUN_TASK_COUNT", "3")]).unwrap();
        assert_eq!((sharded.task_index, sharded.task_count), (2, 3));
        assert!(settings(&[("CLOUD_RUN_TASK_INDEX", "3"), ("CLOUD_RUN_TASK_COUNT", "3")]).is_err());
        assert!(settings(&[("CLOUD_RUN_TASK_COUNT", "many")]).is_err());
    }

    /// A count of 0 was reported as `invalid CLOUD_RUN_TASK_INDEX "0"`, naming the wrong variable.
    #[test]
    fn a_task_count_of_zero_names_the_count() {
        let error = settings(&[("CLOUD_RUN_TASK_COUNT", "0")]).unwrap_err();
        assert_eq!(
            error.to_string(),
            r#"invalid CLOUD_RUN_TASK_COUNT "0": expected a whole number of at least 1"#
        );
        let error = settings(&[("CLOUD_RUN_TASK_INDEX", " 3"), ("CLOUD_RUN_TASK_COUNT", "3")]).unwrap_err();
        assert_eq!(
            error.to_string(),
            r#"invalid CLOUD_RUN_TASK_INDEX " 3": expected an index below CLOUD_RUN_TASK_COUNT"#
        );
    }

    #[test]
    fn the_emulator_host_needs_a_port() {
        let host = settings(&[("BIGQUERY_EMULATOR_HOST", "127.0.0.1:9050")]).unwrap();
        assert_eq!(host.bigquery_emulator_host.as_deref(), Some("127.0.0.1:9050"));
        assert_eq!(settings(&[("BIGQUERY_EMULATOR_HOST", "")]).unwrap().bigquery_emulator_host, None);
        for bad in ["localhost", "localhost:http", ":9050", "localhost:0", "localhost:65536"] {
            let error = settings(&[("BIGQUERY_EMULATOR_HOST", bad)]).unwrap_err();
            assert_eq!(
                error.to_string(),
                format!("invalid BIGQUERY_EMULATOR_HOST {bad:?}: expected host:port")
            );
        }
    }

    #[test]
    fn the_log_filter_is_checked_not_dropped() {
        let filter = settings(&[("RUST_LOG", "warn,player_game_summary=debug")]).unwrap();
        assert_eq!(filter.log_filter.as_deref(), Some("warn,player_game_summary=debug"));
        assert_eq!(settings(&[("RUST_LOG", "")]).unwrap().log_filter, None);
        let error = settings(&[("RUST_LOG", "info,player_game_summary=loud")]).unwrap_err();
        assert!(
            error.to_string().starts_with(r#"invalid RUST_LOG "info,player_game_summary=loud": "#),
            "{error}"
        );
    }

    #[test]
    fn a_variable_that_is_not_unicode_is_skipped_unless_read() {
        use std::os::unix::ffi::OsStringExt as _;
        let not_unicode = std::ffi::OsString::from_vec(b"duckdb:\xff".to_vec());
        let unrelated = unicode_variables([("UNRELATED".into(), not_unicode.clone())]).unwrap();
        assert!(unrelated.is_empty());
        let error = unicode_variables([("WAREHOUSE".into(), not_unicode)]).unwrap_err();
        assert_eq!(error.to_string(), "invalid WAREHOUSE \"duckdb:\u{fffd}\": expected UTF-8 text");
    }

    #[test]
    fn every_variable_read_is_refused_when_not_unicode() {
        use std::os::unix::ffi::OsStringExt as _;
        // The first and the last field of `RawEnvironment`, among the others.
        let names = read_variables();
        assert!(names.contains(&"enable_player_parallelization") && names.contains(&"rust_log"));
        for name in names {
            let variable = name.to_ascii_uppercase();
            let value = std::ffi::OsString::from_vec(b"\xff".to_vec());
            let error = unicode_variables([(variable.clone().into(), value)]).unwrap_err();
            assert!(error.to_string().starts_with(&format!("invalid {variable} ")), "{error}");
        }
    }
}
