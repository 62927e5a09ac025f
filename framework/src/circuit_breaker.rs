//! The per-player circuit breaker of the phase-4 processors (reference-framework.md §5): a
//! player whose latest reprocess attempt for the date tripped the breaker is skipped until the
//! breaker's end.
//!
//! PCF read every player's latest attempt in one query (reference-pcf.md §2.9), MLFS one query
//! per player (reference-mlfs.md §2.8); both decide alike, and both ports read a chunk's
//! attempts in one query (README §4 item 19) and decide here. Attempts are recorded by MLFS
//! alone, one per player skipped for incomplete data ([`ReprocessAttempt`]): PCF's reference
//! processes every player and never recorded any.

use chrono::{DateTime, NaiveDate, Utc};
use rustc_hash::FxHashMap;

use crate::dates::python_datetime_str;
use crate::dedupe::DuplicateKey;
use crate::schema::orchestration::REPROCESS_ATTEMPTS;
use crate::{EntityFailure, ExtractError, FailureCategory, RowView};

/// The columns of `nba_orchestration.reprocess_attempts` a [`ReprocessAttemptRow`] holds.
pub const REPROCESS_ATTEMPT_COLUMNS: &[&str] = &[
    "processor_name",
    "entity_id",
    "analysis_date",
    "attempt_number",
    "attempted_at",
    "circuit_breaker_tripped",
    "circuit_breaker_until",
];

/// One `nba_orchestration.reprocess_attempts` row, any processor's (the read filters on the
/// date; [`latest_attempts`] on the processor).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReprocessAttemptRow {
    pub processor_name: String,
    pub entity_id: String,
    pub analysis_date: NaiveDate,
    pub attempt_number: i64,
    pub attempted_at: Option<DateTime<Utc>>,
    pub circuit_breaker_tripped: Option<bool>,
    pub circuit_breaker_until: Option<DateTime<Utc>>,
}

impl ReprocessAttemptRow {
    /// The row of a read of [`REPROCESS_ATTEMPT_COLUMNS`]; a NULL attempt number counts as 0.
    ///
    /// # Errors
    /// `processor_name`, `entity_id` or `analysis_date` is NULL.
    pub fn from_row(row: RowView<'_>) -> Result<ReprocessAttemptRow, ExtractError> {
        Ok(ReprocessAttemptRow {
            processor_name: row.required_text("processor_name")?,
            entity_id: row.required_text("entity_id")?,
            analysis_date: row.required_date("analysis_date")?,
            attempt_number: row.int("attempt_number").unwrap_or_default(),
            attempted_at: row.timestamp("attempted_at"),
            circuit_breaker_tripped: row.flag("circuit_breaker_tripped"),
            circuit_breaker_until: row.timestamp("circuit_breaker_until"),
        })
    }
}

/// What the breaker reads of an entity's latest attempt.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LatestAttempt {
    pub attempt_number: i64,
    /// A NULL flag counts as not tripped.
    pub circuit_breaker_tripped: bool,
    pub circuit_breaker_until: Option<DateTime<Utc>>,
}

/// Per `entity_id`, the latest of `processor_name`'s attempts for `date`: the highest
/// `attempt_number`, as the references' `ORDER BY attempt_number DESC`. Two rows with one attempt
/// number are a duplicate key, reported in `duplicates`; of those the later `attempted_at` wins.
pub fn latest_attempts(
    rows: Vec<ReprocessAttemptRow>,
    processor_name: &str,
    date: NaiveDate,
    duplicates: &mut Vec<DuplicateKey>,
) -> FxHashMap<String, LatestAttempt> {
    let mut latest: FxHashMap<String, ReprocessAttemptRow> = FxHashMap::default();
    let mut extra_row_keys: Vec<String> = Vec::new();
    let own_rows =
        rows.into_iter().filter(|row| row.processor_name == processor_name && row.analysis_date == date);
    for row in own_rows {
        let Some(kept) = latest.get(&row.entity_id) else {
            latest.insert(row.entity_id.clone(), row);
            continue;
        };
        if kept.attempt_number == row.attempt_number {
            extra_row_keys.push(format!(
                "{}/{}/{}/{}",
                row.processor_name, row.entity_id, row.analysis_date, row.attempt_number
            ));
        }
        if (row.attempt_number, row.attempted_at) >= (kept.attempt_number, kept.attempted_at) {
            latest.insert(row.entity_id.clone(), row);
        }
    }
    duplicates.extend(DuplicateKey::from_extra_rows(&REPROCESS_ATTEMPTS, extra_row_keys));
    latest
        .into_iter()
        .map(|(entity_id, row)| {
            let attempt = LatestAttempt {
                attempt_number: row.attempt_number,
                circuit_breaker_tripped: row.circuit_breaker_tripped.unwrap_or(false),
                circuit_breaker_until: row.circuit_breaker_until,
            };
            (entity_id, attempt)
        })
        .collect()
}

/// An entity's breaker at the run's timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CircuitBreaker {
    /// Tripped and not yet expired: the entity is skipped.
    Open { until: DateTime<Utc> },
    /// Processed; `attempts` is the latest attempt number (0 without any attempt), the row's
    /// `reprocess_attempt_count`.
    Closed { attempts: i64 },
}

impl CircuitBreaker {
    /// Open only when the latest attempt tripped the breaker and `now` is before its end. A
    /// tripped attempt without an end time cannot be compared (the references would fail the
    /// comparison and keep their defaults), so it counts as closed. `now` is the run's timestamp
    /// (`RunContext::processed_at`), so every entity of a run is judged at the same instant.
    pub fn at(latest_attempt: Option<&LatestAttempt>, now: DateTime<Utc>) -> CircuitBreaker {
        let Some(attempt) = latest_attempt else {
            return CircuitBreaker::Closed { attempts: 0 };
        };
        match attempt.circuit_breaker_until {
            Some(until) if attempt.circuit_breaker_tripped && now < until => CircuitBreaker::Open { until },
            _ => CircuitBreaker::Closed { attempts: attempt.attempt_number },
        }
    }

    /// The attempt count of a closed breaker, or the failure that skips `entity_id` with the
    /// references' reason.
    ///
    /// # Errors
    /// `CIRCUIT_BREAKER_ACTIVE` when the breaker is open.
    pub fn attempts_or_skip(self, entity_id: &str) -> Result<i64, EntityFailure> {
        match self {
            CircuitBreaker::Closed { attempts } => Ok(attempts),
            CircuitBreaker::Open { until } => {
                let until = python_datetime_str(until);
                Err(EntityFailure::new(
                    entity_id,
                    FailureCategory::CircuitBreakerActive,
                    format!("Circuit breaker active until {until}"),
                )
                .logged_as(format!("{entity_id}: Circuit breaker active until {until} - skipping")))
            }
        }
    }
}

/// The attempt at which the breaker trips: the reference's `next >= 3` (reference-mlfs.md §2.8).
pub const TRIPPING_ATTEMPT: i64 = 3;

/// How long a tripped breaker skips the entity: the reference's 7 days (reference-framework.md
/// §5; a later reference commit shortened it to 24 hours).
pub const TRIPPED_FOR: chrono::TimeDelta = chrono::TimeDelta::days(7);

/// A reprocess attempt recorded for an entity skipped for incomplete data
/// (`_increment_reprocess_count`, reference-mlfs.md §2.8): the attempt after the entity's
/// latest, tripping the breaker at the third.
///
/// The reference inserted one row per skip as it happened; here the runner buffers a run's
/// attempts and writes them with its bookkeeping (README §4 items 4 and 19). Backfill runs and
/// the bootstrap window waive the completeness gates, so they record none.
#[derive(Clone, Debug, PartialEq)]
pub struct ReprocessAttempt {
    pub entity_id: String,
    pub attempt_number: i64,
    /// The entity's own-data completeness, for either skip reason (the reference recorded the
    /// own-data percentage for upstream skips too).
    pub completeness_pct: f64,
    /// `incomplete_own_data` or `incomplete_upstream_dependencies`.
    pub skip_reason: &'static str,
    /// The breaker's end when this attempt trips it.
    pub circuit_breaker_until: Option<DateTime<Utc>>,
}

impl ReprocessAttempt {
    /// The attempt `failure` records, if its category is a skip for incomplete data: numbered
    /// after `latest` (the entity's latest attempt for the date, as the run read it), tripping
    /// the breaker until `now` + [`TRIPPED_FOR`] at [`TRIPPING_ATTEMPT`].
    pub fn after(
        latest: Option<&LatestAttempt>,
        failure: &EntityFailure,
        completeness_pct: f64,
        now: DateTime<Utc>,
    ) -> Option<ReprocessAttempt> {
        let skip_reason = match failure.category {
            FailureCategory::IncompleteDataSkipped => "incomplete_own_data",
            FailureCategory::UpstreamIncomplete => "incomplete_upstream_dependencies",
            _ => return None,
        };
        let attempt_number = latest.map_or(0, |attempt| attempt.attempt_number) + 1;
        Some(ReprocessAttempt {
            entity_id: failure.entity_id.clone(),
            attempt_number,
            completeness_pct,
            skip_reason,
            circuit_breaker_until: (attempt_number >= TRIPPING_ATTEMPT).then(|| now + TRIPPED_FOR),
        })
    }

    pub fn trips_the_breaker(&self) -> bool {
        self.circuit_breaker_until.is_some()
    }

    /// The row's `notes`: `Attempt 2: 45.0% complete`.
    pub fn notes(&self) -> String {
        format!("Attempt {}: {:.1}% complete", self.attempt_number, self.completeness_pct)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn date(text: &str) -> NaiveDate {
        text.parse().expect("test dates are valid")
    }

    fn attempt(processor_name: &str, entity_id: &str, number: i64, hour: u32) -> ReprocessAttemptRow {
        ReprocessAttemptRow {
            processor_name: processor_name.to_owned(),
            entity_id: entity_id.to_owned(),
            analysis_date: date("2025-01-15"),
            attempt_number: number,
            attempted_at: Some(Utc.with_ymd_and_hms(2025, 1, 15, hour, 0, 0).unwrap()),
            circuit_breaker_tripped: Some(hour.is_multiple_of(2)),
            ..ReprocessAttemptRow::default()
        }
    }

    #[test]
    fn the_highest_attempt_of_the_processor_and_date_is_kept() {
        let mut other_date = attempt("pcf", "amy", 8, 1);
        other_date.analysis_date = date("2025-01-14");
        let rows = vec![
            attempt("pcf", "amy", 2, 1),
            attempt("pcf", "amy", 3, 2),
            attempt("pcf", "amy", 1, 3),
            attempt("pcf", "bob", 1, 3),
            attempt("mlfs", "amy", 9, 1),
            other_date,
        ];
        let mut duplicates = Vec::new();
        let latest = latest_attempts(rows, "pcf", date("2025-01-15"), &mut duplicates);
        assert_eq!(latest.len(), 2);
        assert_eq!(
            latest["amy"],
            LatestAttempt { attempt_number: 3, circuit_breaker_tripped: true, ..Default::default() }
        );
        assert_eq!(latest["bob"].attempt_number, 1);
        assert!(!latest["bob"].circuit_breaker_tripped);
        assert!(duplicates.is_empty());
    }

    #[test]
    fn one_attempt_number_twice_is_a_duplicate_and_the_later_attempt_wins() {
        let rows =
            vec![attempt("pcf", "amy", 2, 4), attempt("pcf", "amy", 2, 7), attempt("pcf", "amy", 2, 5)];
        let mut duplicates = Vec::new();
        let latest = latest_attempts(rows, "pcf", date("2025-01-15"), &mut duplicates);
        // 07:00 is odd, so the kept attempt is the untripped one.
        assert!(!latest["amy"].circuit_breaker_tripped);
        assert_eq!(duplicates.len(), 1);
        assert_eq!(
            duplicates[0].to_string(),
            "3 rows share the key pcf/amy/2025-01-15/2 in nba_orchestration.reprocess_attempts"
        );
    }

    #[test]
    fn the_breaker_is_open_only_while_tripped_and_unexpired() {
        let now = Utc.with_ymd_and_hms(2025, 11, 1, 12, 0, 0).unwrap();
        let until = Utc.with_ymd_and_hms(2025, 11, 8, 12, 0, 0).unwrap();
        let tripped = LatestAttempt {
            attempt_number: 3,
            circuit_breaker_tripped: true,
            circuit_breaker_until: Some(until),
        };
        assert_eq!(CircuitBreaker::at(Some(&tripped), now), CircuitBreaker::Open { until });
        assert_eq!(CircuitBreaker::at(Some(&tripped), until), CircuitBreaker::Closed { attempts: 3 });
        let untripped = LatestAttempt { circuit_breaker_tripped: false, ..tripped };
        assert_eq!(CircuitBreaker::at(Some(&untripped), now), CircuitBreaker::Closed { attempts: 3 });
        let without_end = LatestAttempt { circuit_breaker_until: None, ..tripped };
        assert_eq!(CircuitBreaker::at(Some(&without_end), now), CircuitBreaker::Closed { attempts: 3 });
        assert_eq!(CircuitBreaker::at(None, now), CircuitBreaker::Closed { attempts: 0 });
    }

    #[test]
    fn skips_for_incomplete_data_record_the_next_attempt_and_the_third_trips_the_breaker() {
        let now = Utc.with_ymd_and_hms(2025, 1, 15, 14, 30, 0).unwrap();
        let own =
            EntityFailure::new("amy", FailureCategory::IncompleteDataSkipped, "Incomplete own data: 45.0%");
        let first = ReprocessAttempt::after(None, &own, 45.0, now).unwrap();
        assert_eq!(
            first,
            ReprocessAttempt {
                entity_id: "amy".to_owned(),
                attempt_number: 1,
                completeness_pct: 45.0,
                skip_reason: "incomplete_own_data",
                circuit_breaker_until: None,
            }
        );
        assert_eq!(first.notes(), "Attempt 1: 45.0% complete");

        let upstream = EntityFailure::new(
            "amy",
            FailureCategory::UpstreamIncomplete,
            "Upstream Phase 4 dependencies not ready",
        );
        let second = LatestAttempt { attempt_number: 2, ..LatestAttempt::default() };
        let third = ReprocessAttempt::after(Some(&second), &upstream, 92.85, now).unwrap();
        assert_eq!(third.attempt_number, 3);
        assert_eq!(third.skip_reason, "incomplete_upstream_dependencies");
        assert!(third.trips_the_breaker());
        assert_eq!(third.circuit_breaker_until, Some(Utc.with_ymd_and_hms(2025, 1, 22, 14, 30, 0).unwrap()));
        // `{:.1}` rounds the binary value half to even, as Python's format does: 92.85 is
        // 92.849999… in binary.
        assert_eq!(third.notes(), "Attempt 3: 92.8% complete");
        let fourth =
            ReprocessAttempt::after(Some(&LatestAttempt { attempt_number: 3, ..second }), &own, 0.0, now);
        assert_eq!(fourth.unwrap().attempt_number, 4);
    }

    #[test]
    fn other_failures_record_no_attempt() {
        let now = Utc.with_ymd_and_hms(2025, 1, 15, 14, 30, 0).unwrap();
        for category in [
            FailureCategory::MissingData,
            FailureCategory::CircuitBreakerActive,
            FailureCategory::ProcessingError,
        ] {
            let failure = EntityFailure::new("amy", category, "why");
            assert_eq!(ReprocessAttempt::after(None, &failure, 50.0, now), None, "{category}");
        }
    }

    #[test]
    fn an_open_breaker_skips_the_entity_with_the_reference_reason() {
        let until = Utc.with_ymd_and_hms(2025, 11, 8, 12, 0, 0).unwrap();
        let failure = CircuitBreaker::Open { until }.attempts_or_skip("amy").unwrap_err();
        assert_eq!(failure.entity_id, "amy");
        assert_eq!(failure.category, FailureCategory::CircuitBreakerActive);
        assert_eq!(failure.reason, "Circuit breaker active until 2025-11-08 12:00:00+00:00");
        // reference-pcf.md §5.4, reference-mlfs.md §6.1 step 2.
        assert_eq!(
            failure.log_line.as_deref(),
            Some("amy: Circuit breaker active until 2025-11-08 12:00:00+00:00 - skipping")
        );
        assert_eq!(CircuitBreaker::Closed { attempts: 2 }.attempts_or_skip("amy"), Ok(2));
    }
}
