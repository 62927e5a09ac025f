//! Preflight (README §4 item 5): one query for the upstream rows of every dependency and date
//! of a run, and each date's verdict on them. A critical dependency without its rows fails the
//! date; an optional one without them, or an upstream whose newest row is too old (live mode
//! only), is reported and never fails it. The verdict is told in the reference's
//! dependency-check lines and summed up for the date's stats line.
//!
//! What a verdict does to a date (failing it, its run-history columns, logging its lines) is
//! the runner's; the lines' texts are `progress`'s.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

use crate::processor::{Dependency, Phase, completeness_pct};
use crate::progress::{
    DependencyLines, UpstreamCheck, checking_dependency_line, dependency_check_complete_line,
    missing_dependency_line, source_tracking_complete_line, stale_dependency_line, stale_phase4_data_line,
};
use crate::rounding::round_half_even;
use crate::warehouse::{Query, Warehouse, WarehouseError};

/// Rows found per (dependency table, date) and the newest `processed_at`.
pub(crate) type UpstreamCounts = HashMap<(String, NaiveDate), (i64, Option<DateTime<Utc>>)>;

/// Rows per dependency and date, and the newest `processed_at`: one query for all dependencies
/// and dates (a `UNION ALL` of one aggregate per dependency), one round trip however many.
pub(crate) async fn count_upstream_rows(
    warehouse: &dyn Warehouse,
    dependencies: &[Dependency],
    dates: &[NaiveDate],
) -> Result<UpstreamCounts, WarehouseError> {
    let mut counts = UpstreamCounts::new();
    if dates.is_empty() || dependencies.is_empty() {
        return Ok(counts);
    }
    let branches: Vec<String> = dependencies
        .iter()
        .enumerate()
        .map(|(index, dependency)| {
            let newest = if dependency.table.column("processed_at").is_some() {
                "max(processed_at)"
            } else {
                "CAST(NULL AS TIMESTAMP)"
            };
            format!(
                "SELECT {index} AS dependency, \"{column}\" AS day, count(*) AS found, {newest} AS newest \
                 FROM {{{table}}} WHERE \"{column}\" IN (@dates) GROUP BY 2",
                column = dependency.date_column,
                table = dependency.table,
            )
        })
        .collect();
    let query = Query::new(branches.join(" UNION ALL ")).bind_list("dates", dates);
    for row in warehouse.query(&query).await?.rows {
        let dependency = row[0].as_i64().and_then(|index| dependencies.get(usize::try_from(index).ok()?));
        if let (Some(dependency), Some(date), Some(rows)) = (dependency, row[1].as_date(), row[2].as_i64()) {
            counts.insert((dependency.table.to_string(), date), (rows, row[3].as_timestamp()));
        }
    }
    Ok(counts)
}

/// What preflight found upstream for a date, as the reference's `track_source_usage` summed it
/// up for the stats line (reference-framework.md §7.2), from the rows found and the newest
/// `processed_at` of each dependency (the date's looked-up counts).
///
/// The completeness is the mean over every dependency with rows, where the reference averaged
/// only those with at least the expected rows (its "exists") — so it said 100.0 whenever it ran
/// at all. Here a backfill on thin upstream data shows how thin; a live date that passed has
/// every critical dependency at its minimum, so with PCF's and MLFS's all-critical dependencies it
/// says 100.0 as the reference did.
///
/// The age is measured to the run's start, as the reference measured it to its own clock;
/// staleness is measured to the date's own instant instead ([`staleness_instant`]), so a
/// backfill's old upstream rows are reported here but not called stale.
fn upstream_check(
    counted: &[(&Dependency, i64, Option<DateTime<Utc>>)],
    passed: bool,
    run_started_at: DateTime<Utc>,
) -> UpstreamCheck {
    let found: Vec<&(&Dependency, i64, Option<DateTime<Utc>>)> =
        counted.iter().filter(|(_, rows, _)| *rows > 0).collect();
    let completeness = if found.is_empty() {
        0.0
    } else {
        let total: f64 =
            found.iter().map(|(dependency, rows, _)| completeness_pct(*rows, dependency.expected_rows)).sum();
        round_half_even(total / found.len() as f64, 2)
    };
    let age_hours = found
        .iter()
        .filter_map(|(_, _, newest)| *newest)
        .map(|newest| hours_between(newest, run_started_at))
        .reduce(f64::max)
        .map(|hours| round_half_even(hours, 2));
    UpstreamCheck {
        dependency_check_passed: passed,
        data_completeness_pct: completeness,
        upstream_data_age_hours: age_hours,
    }
}

/// What preflight found of one dependency for one date.
#[derive(Clone, Debug, PartialEq)]
struct DependencyFinding {
    table: String,
    critical: bool,
    found: i64,
    /// A backfill needs one row, a live run the expected minimum.
    needed: i64,
    max_age_hours: i64,
    /// Live mode, when the newest row is older than `max_age_hours`: its age in hours.
    stale_hours: Option<f64>,
}

impl DependencyFinding {
    fn missing(&self) -> bool {
        self.found < self.needed
    }
}

/// One date's dependency check.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct DateDependencies {
    findings: Vec<DependencyFinding>,
    /// The summary the date's stats line carries.
    pub(crate) upstream: UpstreamCheck,
}

impl DateDependencies {
    /// Checks `date`'s dependencies against the run's counts; a backfill asks only for one
    /// row of each critical dependency and does not look at ages.
    pub(crate) fn check(
        dependencies: &[Dependency],
        counts: &UpstreamCounts,
        date: NaiveDate,
        backfill: bool,
        run_started_at: DateTime<Utc>,
    ) -> DateDependencies {
        let age_measured_at = staleness_instant(date, run_started_at);
        let counted: Vec<(&Dependency, i64, Option<DateTime<Utc>>)> = dependencies
            .iter()
            .map(|dependency| {
                let (found, newest) =
                    counts.get(&(dependency.table.to_string(), date)).copied().unwrap_or((0, None));
                (dependency, found, newest)
            })
            .collect();
        let findings: Vec<DependencyFinding> = counted
            .iter()
            .map(|&(dependency, found, newest)| {
                let stale_hours = match (backfill, newest) {
                    (false, Some(newest)) => Some(hours_between(newest, age_measured_at)),
                    _ => None,
                }
                .filter(|hours| *hours > dependency.max_age_hours as f64);
                DependencyFinding {
                    table: dependency.table.to_string(),
                    critical: dependency.critical,
                    found,
                    needed: if backfill { 1 } else { dependency.expected_rows },
                    max_age_hours: dependency.max_age_hours,
                    stale_hours,
                }
            })
            .collect();
        let critical_present = !findings.iter().any(|finding| finding.critical && finding.missing());
        let upstream = upstream_check(&counted, critical_present, run_started_at);
        DateDependencies { findings, upstream }
    }

    /// The critical dependencies without their rows, as `table (found rows, needed needed)`:
    /// the date's error and its run-history `missing_dependencies`.
    pub(crate) fn missing_critical(&self) -> Vec<String> {
        self.findings
            .iter()
            .filter(|finding| finding.critical && finding.missing())
            .map(|finding| format!("{} ({} rows, {} needed)", finding.table, finding.found, finding.needed))
            .collect()
    }

    /// The stale dependencies' tables: the date's run-history `stale_dependencies`.
    pub(crate) fn stale_tables(&self) -> Vec<String> {
        self.findings
            .iter()
            .filter(|finding| finding.stale_hours.is_some())
            .map(|finding| finding.table.clone())
            .collect()
    }

    /// The check's lines as the reference's base classes logged them, each with whether it is
    /// a warning: in live mode each dependency checked and what it lacked, then the verdict and
    /// the source-tracking summary, and what the processor adds (`extra`); in a backfill, where
    /// the reference skipped its check (phase 3) or only asked whether rows existed (phase 4),
    /// only the missing critical dependencies.
    pub(crate) fn lines(&self, phase: Phase, extra: DependencyLines, backfill: bool) -> Vec<(bool, String)> {
        let mut lines = Vec::new();
        for finding in &self.findings {
            if !backfill {
                lines.push((false, checking_dependency_line(&finding.table)));
            }
            if finding.missing() && (finding.critical || !backfill) {
                lines.push((true, missing_dependency_line(&finding.table, finding.critical)));
            }
            if let Some(age_hours) = finding.stale_hours {
                lines.push((true, stale_dependency_line(&finding.table, age_hours, finding.max_age_hours)));
            }
        }
        if !backfill {
            let fresh = self.findings.iter().all(|finding| finding.stale_hours.is_none());
            lines.push((false, dependency_check_complete_line(self.upstream.dependency_check_passed, fresh)));
            let tracked = self.findings.iter().filter(|finding| finding.found > 0).count();
            lines.push((false, source_tracking_complete_line(phase, &self.upstream, tracked)));
            if extra == DependencyLines::StaleSummary {
                let stale = self.stale_tables();
                if !stale.is_empty() {
                    lines.push((true, stale_phase4_data_line(&stale)));
                }
            }
        }
        lines
    }
}

/// When an upstream's age is measured for `date`: the run's start, or the end of the date when
/// the run starts after it.
///
/// A live run on game day (PCF and MLFS run before the games, on upstream rows of that morning)
/// measures to its own clock, as the reference did. A rerun of an earlier date asks whether
/// the rows were fresh when the date ended, not whether they are fresh now, which every
/// historical row would fail (README §4 item 5; the reference's wall-clock rule made every
/// historical date look stale, reference-framework.md §16).
fn staleness_instant(date: NaiveDate, run_started_at: DateTime<Utc>) -> DateTime<Utc> {
    let end_of_date = date.succ_opt().and_then(|next| next.and_hms_opt(0, 0, 0)).map(|end| end.and_utc());
    end_of_date.map_or(run_started_at, |end| end.min(run_started_at))
}

fn hours_between(earlier: DateTime<Utc>, later: DateTime<Utc>) -> f64 {
    (later - earlier).num_milliseconds() as f64 / 3_600_000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::analytics::{UPCOMING_PLAYER_GAME_CONTEXT, UPCOMING_TEAM_GAME_CONTEXT};
    use crate::schema::raw::ODDS_API_PLAYER_POINTS_PROPS;

    const DEPENDENCIES: [Dependency; 3] = [
        Dependency {
            table: &UPCOMING_PLAYER_GAME_CONTEXT,
            date_column: "game_date",
            expected_rows: 100,
            critical: true,
            max_age_hours: 12,
        },
        Dependency {
            table: &UPCOMING_TEAM_GAME_CONTEXT,
            date_column: "game_date",
            expected_rows: 10,
            critical: true,
            max_age_hours: 12,
        },
        Dependency {
            table: &ODDS_API_PLAYER_POINTS_PROPS,
            date_column: "game_date",
            expected_rows: 100,
            critical: false,
            max_age_hours: 48,
        },
    ];

    fn date() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 1, 15).unwrap()
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    /// Player context: 302 rows processed at 10:00 on game day; team context: 4 of the 10
    /// rows it needs, processed at 09:30; props: none.
    fn counts() -> UpstreamCounts {
        HashMap::from([
            (
                ("nba_analytics.upcoming_player_game_context".to_owned(), date()),
                (302, Some(at("2025-01-15T10:00:00Z"))),
            ),
            (
                ("nba_analytics.upcoming_team_game_context".to_owned(), date()),
                (4, Some(at("2025-01-15T09:30:00Z"))),
            ),
        ])
    }

    #[test]
    fn a_game_day_run_measures_ages_to_its_own_start() {
        // Started at 11:00 on game day: 1.0 and 1.5 hours, within 12.
        let check =
            DateDependencies::check(&DEPENDENCIES, &counts(), date(), false, at("2025-01-15T11:00:00Z"));
        assert!(check.stale_tables().is_empty());
        assert_eq!(check.upstream.upstream_data_age_hours, Some(1.5));
    }

    #[test]
    fn a_later_run_measures_ages_to_the_end_of_the_date() {
        // A rerun a month later asks about the rows at midnight after the date: 14.0 and 14.5
        // hours, both past 12 — not 30 days.
        let run_started_at = at("2025-02-15T08:00:00Z");
        assert_eq!(staleness_instant(date(), run_started_at), at("2025-01-16T00:00:00Z"));
        let check = DateDependencies::check(&DEPENDENCIES, &counts(), date(), false, run_started_at);
        assert_eq!(
            check.stale_tables(),
            ["nba_analytics.upcoming_player_game_context", "nba_analytics.upcoming_team_game_context"]
        );
        // The stats line keeps the reference's age, to the run's start, of the oldest newest
        // row (team context, 09:30): 31 days less 1.5 hours.
        assert_eq!(check.upstream.upstream_data_age_hours, Some(742.5));
    }

    #[test]
    fn live_mode_needs_the_expected_rows_and_a_backfill_one() {
        let run_started_at = at("2025-01-15T11:00:00Z");
        let live = DateDependencies::check(&DEPENDENCIES, &counts(), date(), false, run_started_at);
        // Props are optional: missing, but not among the critical ones.
        assert_eq!(live.missing_critical(), ["nba_analytics.upcoming_team_game_context (4 rows, 10 needed)"]);
        assert!(!live.upstream.dependency_check_passed);
        let backfill =
            DateDependencies::check(&DEPENDENCIES, &counts(), date(), true, at("2025-02-15T08:00:00Z"));
        assert!(backfill.missing_critical().is_empty());
        assert!(backfill.upstream.dependency_check_passed);
        // A backfill does not look at ages.
        assert!(backfill.stale_tables().is_empty());
    }

    #[test]
    fn live_lines_follow_the_reference_order() {
        let check =
            DateDependencies::check(&DEPENDENCIES, &counts(), date(), false, at("2025-02-15T08:00:00Z"));
        let lines = check.lines(Phase::Precompute, DependencyLines::Base, false);
        let expected = [
            (false, "Checking dependency: nba_analytics.upcoming_player_game_context"),
            (true, "Stale dependency: nba_analytics.upcoming_player_game_context: 14.0h old (max: 12h)"),
            (false, "Checking dependency: nba_analytics.upcoming_team_game_context"),
            (true, "Missing critical dependency: nba_analytics.upcoming_team_game_context"),
            (true, "Stale dependency: nba_analytics.upcoming_team_game_context: 14.5h old (max: 12h)"),
            (false, "Checking dependency: nba_raw.odds_api_player_points_props"),
            (true, "Missing optional dependency: nba_raw.odds_api_player_points_props"),
            (false, "Dependency check complete: critical_present=False, fresh=False"),
            // Player context 100 % and team context 40 %, the two with rows: 70.0.
            (false, "Source tracking complete: completeness=70.0%, max_age=742.5h"),
        ];
        let lines: Vec<(bool, &str)> =
            lines.iter().map(|(warning, line)| (*warning, line.as_str())).collect();
        assert_eq!(lines, expected);
        assert_eq!(
            check.lines(Phase::Analytics, DependencyLines::Base, false).last().map(|(_, line)| line.as_str()),
            Some("Source tracking complete: 2 sources tracked")
        );
    }

    #[test]
    fn mlfs_sums_up_its_stale_sources_after_the_bases_lines() {
        let check =
            DateDependencies::check(&DEPENDENCIES, &counts(), date(), false, at("2025-02-15T08:00:00Z"));
        let lines = check.lines(Phase::Precompute, DependencyLines::StaleSummary, false);
        assert_eq!(
            lines.last(),
            Some(&(
                true,
                "Stale Phase 4 data detected: ['nba_analytics.upcoming_player_game_context', \
                 'nba_analytics.upcoming_team_game_context']"
                    .to_owned()
            ))
        );
        // The same lines before it as without the summary.
        assert_eq!(lines[..lines.len() - 1], check.lines(Phase::Precompute, DependencyLines::Base, false));
        // Fresh sources, or a backfill (which does not look at ages): no summary.
        let fresh =
            DateDependencies::check(&DEPENDENCIES, &counts(), date(), false, at("2025-01-15T11:00:00Z"));
        assert!(fresh.stale_tables().is_empty());
        assert_eq!(
            fresh.lines(Phase::Precompute, DependencyLines::StaleSummary, false),
            fresh.lines(Phase::Precompute, DependencyLines::Base, false)
        );
        let backfill =
            DateDependencies::check(&DEPENDENCIES, &counts(), date(), true, at("2025-02-15T08:00:00Z"));
        assert!(
            backfill
                .lines(Phase::Precompute, DependencyLines::StaleSummary, true)
                .iter()
                .all(|(_, line)| !line.starts_with("Stale"))
        );
    }

    #[test]
    fn a_backfill_logs_only_its_missing_critical_dependencies() {
        let empty = UpstreamCounts::new();
        let check = DateDependencies::check(&DEPENDENCIES, &empty, date(), true, at("2025-02-15T08:00:00Z"));
        let lines = check.lines(Phase::Analytics, DependencyLines::Base, true);
        assert_eq!(
            lines,
            [
                (true, "Missing critical dependency: nba_analytics.upcoming_player_game_context".to_owned()),
                (true, "Missing critical dependency: nba_analytics.upcoming_team_game_context".to_owned()),
            ]
        );
    }
}
