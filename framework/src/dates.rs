//! Season arithmetic and the schedule: which dates have games, when a season starts, and which
//! dates fall in the early-season bootstrap window (README §4 item 6).

use chrono::{Datelike, NaiveDate};

use crate::schema::raw::NBAC_SCHEDULE;
use crate::warehouse::{Query, Warehouse, WarehouseError};

/// Days from the season's first regular-season game during which PCF and MLFS skip
/// (`BOOTSTRAP_DAYS`, reference-framework.md §3.5).
pub const BOOTSTRAP_DAYS: i64 = 14;

/// The season a date belongs to, named by its starting year: October onwards is the new season.
pub fn season_year(date: NaiveDate) -> i32 {
    if date.month() >= 10 { date.year() } else { date.year() - 1 }
}

/// `2023-24` for season year 2023 (1999 → `1999-00`), the registry's `season` format.
pub fn season_label(season_year: i64) -> String {
    format!("{season_year}-{:02}", (season_year + 1).rem_euclid(100))
}

/// The reference's fallback season starts, used when the schedule has no game of the season.
/// A season before the calendar's first year (a date in January of year -262143) starts on the
/// calendar's first day instead of panicking.
fn fallback_season_start(season_year: i32) -> NaiveDate {
    let (month, day) = match season_year {
        2021 => (10, 19),
        2022 => (10, 18),
        2023 => (10, 24),
        2024 => (10, 22),
        _ => (10, 22),
    };
    NaiveDate::from_ymd_opt(season_year, month, day).unwrap_or(NaiveDate::MIN)
}

/// The kind of game, from the first three digits of the NBA game id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GameType {
    Preseason,
    RegularSeason,
    AllStar,
    Playoffs,
    PlayIn,
    CupFinal,
    Unknown,
}

impl GameType {
    pub fn from_game_id(game_id: &str) -> GameType {
        match game_id.get(..3) {
            Some("001") => GameType::Preseason,
            Some("002") => GameType::RegularSeason,
            Some("003") => GameType::AllStar,
            Some("004") => GameType::Playoffs,
            Some("005") => GameType::PlayIn,
            Some("006") => GameType::CupFinal,
            _ => GameType::Unknown,
        }
    }

    /// Regular season, play-in and playoffs: the dates a range run processes (README §3.1).
    pub fn is_processed(self) -> bool {
        matches!(self, GameType::RegularSeason | GameType::PlayIn | GameType::Playoffs)
    }
}

/// One scheduled game, as far as the framework needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduledGame {
    pub game_id: String,
    pub game_date: NaiveDate,
    pub season_year: i32,
    pub game_type: GameType,
}

/// The games of `nba_raw.nbac_schedule` for the seasons a run touches.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Schedule {
    games: Vec<ScheduledGame>,
}

impl Schedule {
    pub fn new(mut games: Vec<ScheduledGame>) -> Self {
        games.sort_by(|left, right| (left.game_date, &left.game_id).cmp(&(right.game_date, &right.game_id)));
        Schedule { games }
    }

    /// Reads every game with a date in `[first, last]` widened to whole seasons (one query).
    ///
    /// # Errors
    /// The schedule query fails.
    pub async fn load(
        warehouse: &dyn Warehouse,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Result<Self, WarehouseError> {
        let from = NaiveDate::from_ymd_opt(season_year(first), 7, 1).expect("July 1st exists");
        let until = NaiveDate::from_ymd_opt(season_year(last) + 1, 6, 30).expect("June 30th exists");
        let query = Query::new(format!(
            "SELECT game_id, game_date, season_year FROM {{{NBAC_SCHEDULE}}} \
             WHERE game_date BETWEEN @from AND @until"
        ))
        .bind("from", from)
        .bind("until", until);
        let result = warehouse.query(&query).await?;
        let games = result
            .rows
            .iter()
            .filter_map(|row| {
                let game_id = row[0].as_str()?.to_owned();
                let game_date = row[1].as_date()?;
                let season = row[2].as_i64().map_or_else(|| season_year(game_date), |year| year as i32);
                Some(ScheduledGame {
                    game_type: GameType::from_game_id(&game_id),
                    game_id,
                    game_date,
                    season_year: season,
                })
            })
            .collect();
        Ok(Schedule::new(games))
    }

    /// Dates in `[start, end]` with at least one regular-season, play-in or playoff game.
    pub fn game_dates(&self, start: NaiveDate, end: NaiveDate) -> Vec<NaiveDate> {
        let mut dates: Vec<NaiveDate> = self
            .games
            .iter()
            .filter(|game| game.game_type.is_processed() && (start..=end).contains(&game.game_date))
            .map(|game| game.game_date)
            .collect();
        dates.dedup();
        dates
    }

    /// The season's first regular-season game date, else the reference's fallback table.
    pub fn season_start(&self, season: i32) -> NaiveDate {
        self.games
            .iter()
            .find(|game| game.season_year == season && game.game_type == GameType::RegularSeason)
            .map_or_else(|| fallback_season_start(season), |game| game.game_date)
    }

    /// Whether the schedule holds `date`'s season but no regular-season, play-in or playoff game
    /// on `date`: a day off (Christmas Eve, the All-Star break) or a day after the season's last
    /// game. A season the schedule lacks says nothing about its days.
    pub fn is_day_without_games(&self, date: NaiveDate) -> bool {
        let season = season_year(date);
        let mut processed = self.games.iter().filter(|game| game.game_type.is_processed());
        let knows_season = processed.clone().any(|game| game.season_year == season);
        knows_season && !processed.any(|game| game.game_date == date)
    }

    /// Whether `date` is in days 0–13 of its season (README §4 item 6).
    pub fn is_early_season(&self, date: NaiveDate) -> bool {
        let days = (date - self.season_start(season_year(date))).num_days();
        (0..BOOTSTRAP_DAYS).contains(&days)
    }
}

/// The run's schedule as a chunk's extraction sees it: the runner starts the first chunk's reads
/// beside the schedule's own read (a one-date job then waits for one round of reads, not the
/// schedule's first), and a processor that needs the schedule (PCF's season starts) waits for it
/// after its reads are in.
#[derive(Debug, Default)]
pub struct RunSchedule {
    schedule: tokio::sync::OnceCell<Schedule>,
    loaded: tokio::sync::Notify,
}

impl RunSchedule {
    /// Hands the schedule to everyone waiting for it; a second schedule is ignored.
    pub(crate) fn set(&self, schedule: Schedule) {
        let _ = self.schedule.set(schedule);
        self.loaded.notify_waiters();
    }

    /// The schedule, once it is read.
    pub async fn get(&self) -> &Schedule {
        loop {
            // Registered before the check: a `set` between the check and the wait still wakes it.
            let loaded = self.loaded.notified();
            if let Some(schedule) = self.schedule.get() {
                return schedule;
            }
            loaded.await;
        }
    }
}

/// `season_boundary_detected` of PCF and MLFS rows: October, November or April, the
/// completeness checker's season-boundary months (reference-framework.md §3.5); informational.
pub fn is_season_boundary(date: NaiveDate) -> bool {
    matches!(date.month(), 10 | 11 | 4)
}

/// Python's `str()` of an aware UTC datetime, as reference failure reasons print it:
/// `2025-11-08 12:00:00+00:00`, with `.ffffff` only when there are microseconds.
pub fn python_datetime_str(timestamp: chrono::DateTime<chrono::Utc>) -> String {
    python_isoformat(timestamp, ' ')
}

/// Python's `isoformat(sep)` of an aware UTC datetime (`str()` is `isoformat(' ')`): the date,
/// `sep`, the time with `.ffffff` only when there are microseconds, and `+00:00`.
pub fn python_isoformat(timestamp: chrono::DateTime<chrono::Utc>, separator: char) -> String {
    let microseconds = timestamp.timestamp_subsec_micros();
    let seconds = format!("{}{separator}{}", timestamp.format("%Y-%m-%d"), timestamp.format("%H:%M:%S"));
    if microseconds == 0 { format!("{seconds}+00:00") } else { format!("{seconds}.{microseconds:06}+00:00") }
}

/// `dates` in their given order, each once (`--dates` with a date repeated). A run takes a date
/// once: two passes over one date would share its key in the checkpoint and run-history rows.
pub fn without_repeats(dates: &[NaiveDate]) -> Vec<NaiveDate> {
    let mut seen = std::collections::HashSet::with_capacity(dates.len());
    dates.iter().copied().filter(|date| seen.insert(*date)).collect()
}

/// Every calendar date in `[start, end]` (`--all-days`).
pub fn calendar_dates(start: NaiveDate, end: NaiveDate) -> Vec<NaiveDate> {
    start.iter_days().take_while(|date| *date <= end).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_dates_keep_their_first_place() {
        let [first, second, third] = ["2024-01-17", "2024-01-15", "2024-01-16"].map(date);
        assert_eq!(without_repeats(&[first, second, first, third, second]), vec![first, second, third]);
        assert_eq!(without_repeats(&[]), Vec::<NaiveDate>::new());
    }

    #[test]
    fn an_extraction_waiting_for_the_schedule_gets_it_once_it_is_read() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let run_schedule = RunSchedule::default();
            let game = ScheduledGame {
                game_id: "0022400061".into(),
                game_date: date("2024-10-22"),
                season_year: 2024,
                game_type: GameType::RegularSeason,
            };
            let (seen, ()) = tokio::join!(async { run_schedule.get().await.season_start(2024) }, async {
                tokio::task::yield_now().await;
                run_schedule.set(Schedule::new(vec![game.clone()]));
            });
            assert_eq!(seen, date("2024-10-22"));
            // Set before anyone asks, and set again: the first schedule stays.
            let read_before = RunSchedule::default();
            read_before.set(Schedule::new(vec![game]));
            read_before.set(Schedule::default());
            assert_eq!(read_before.get().await.season_start(2024), date("2024-10-22"));
        });
    }

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn game(id: &str, day: &str) -> ScheduledGame {
        ScheduledGame {
            game_id: id.into(),
            game_date: date(day),
            season_year: 2024,
            game_type: GameType::from_game_id(id),
        }
    }

    #[test]
    fn python_datetime_text_and_season_boundaries() {
        let at = |text: &str| text.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
        assert_eq!(python_datetime_str(at("2025-11-08T12:00:00Z")), "2025-11-08 12:00:00+00:00");
        assert_eq!(python_datetime_str(at("2025-11-08T12:00:00.25Z")), "2025-11-08 12:00:00.250000+00:00");
        assert!(is_season_boundary(date("2024-11-30")));
        assert!(!is_season_boundary(date("2025-01-15")));
    }

    #[test]
    fn the_first_season_of_the_calendar_starts_on_its_first_day() {
        assert_eq!(season_year(NaiveDate::MIN), -262144);
        assert_eq!(fallback_season_start(-262144), NaiveDate::MIN);
        assert_eq!(fallback_season_start(2023), date("2023-10-24"));
    }

    #[test]
    fn season_year_turns_over_in_october() {
        assert_eq!(season_year(date("2024-10-01")), 2024);
        assert_eq!(season_year(date("2025-04-13")), 2024);
        assert_eq!(season_year(date("2024-09-30")), 2023);
        assert_eq!(season_label(2023), "2023-24");
        assert_eq!(season_label(2099), "2099-00");
        assert_eq!(season_label(1999), "1999-00");
    }

    #[test]
    fn a_day_without_games_is_one_of_a_season_the_schedule_holds() {
        let schedule = Schedule::new(vec![
            game("0012400001", "2024-10-04"),
            game("0022400405", "2024-12-25"),
            game("0032400004", "2025-02-14"),
            game("0042400101", "2025-04-19"),
        ]);
        assert!(!schedule.is_day_without_games(date("2024-12-25")));
        assert!(!schedule.is_day_without_games(date("2025-04-19")), "a playoff game");
        assert!(schedule.is_day_without_games(date("2024-12-24")));
        assert!(schedule.is_day_without_games(date("2025-02-14")), "only the All-Star weekend's games");
        assert!(schedule.is_day_without_games(date("2024-10-04")), "only a preseason game");
        assert!(schedule.is_day_without_games(date("2025-06-30")), "after the season's last game");
        // Seasons the schedule does not hold: 2023-24, and 2025-26 from October 1.
        assert!(!schedule.is_day_without_games(date("2024-01-15")));
        assert!(!schedule.is_day_without_games(date("2025-10-01")));
        assert!(!Schedule::default().is_day_without_games(date("2024-12-24")));
    }

    #[test]
    fn season_start_comes_from_the_first_regular_season_game() {
        let schedule = Schedule::new(vec![
            game("0012400001", "2024-10-04"),
            game("0022400002", "2024-10-22"),
            game("0022400061", "2024-10-23"),
        ]);
        assert_eq!(schedule.season_start(2024), date("2024-10-22"));
        assert!(schedule.is_early_season(date("2024-10-22")));
        assert!(schedule.is_early_season(date("2024-11-04")));
        assert!(!schedule.is_early_season(date("2024-11-05")));
        assert!(!schedule.is_early_season(date("2024-10-21")), "preseason is before day 0");
    }

    #[test]
    fn without_schedule_rows_the_fallback_table_decides() {
        let schedule = Schedule::default();
        assert_eq!(schedule.season_start(2023), date("2023-10-24"));
        assert_eq!(schedule.season_start(2030), date("2030-10-22"));
    }

    #[test]
    fn ranges_keep_only_processed_game_dates() {
        let schedule = Schedule::new(vec![
            game("0012400001", "2024-10-04"),
            game("0022400002", "2024-10-22"),
            game("0022400003", "2024-10-22"),
            game("0032400001", "2025-02-16"),
            game("0052400001", "2025-04-15"),
            game("0042400101", "2025-04-19"),
        ]);
        assert_eq!(
            schedule.game_dates(date("2024-10-01"), date("2025-06-30")),
            vec![date("2024-10-22"), date("2025-04-15"), date("2025-04-19")]
        );
        assert_eq!(calendar_dates(date("2024-12-30"), date("2025-01-02")).len(), 4);
    }
}
