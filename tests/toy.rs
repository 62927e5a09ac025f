//! A small real processor for testing the framework: one output row per team of
//! `upcoming_team_game_context`, written to `team_offense_game_summary`.
//!
//! Team `FAIL` has no opponent (a `MISSING_DATA` failure), team `HOLD` is held back by a
//! completeness gate (`INCOMPLETE_DATA_SKIPPED`) and team `BOOM` panics, so the lifecycle's
//! failure paths run on real data.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::NaiveDate;
use framework::dates::RunSchedule;
use framework::progress::{ClosingLines, DependencyLines, SaveLines, SerialLines};
use framework::schema::analytics::{TEAM_OFFENSE_GAME_SUMMARY, UPCOMING_TEAM_GAME_CONTEXT};
use framework::{
    DateFilter, Dependency, EntityFailure, ExtractError, FailureCategory, InputReader, Phase, Processor,
    ProcessorInfo, RunContext,
};

#[derive(Clone, Debug, PartialEq)]
pub struct Team {
    pub team_abbr: String,
    pub opponent_team_abbr: Option<String>,
    pub game_id: String,
    pub game_total: Option<f64>,
}

pub struct ToyInputs {
    pub teams: Vec<Team>,
}

static INFO: ProcessorInfo = ProcessorInfo {
    name: "ToyTeamProcessor",
    binary: "toy",
    build: framework::build!(),
    phase: Phase::Precompute,
    output: &TEAM_OFFENSE_GAME_SUMMARY,
    workers_variable: "PCF_WORKERS",
    early_season: framework::progress::EarlySeason::SkippingPeriod,
    serial_lines: SerialLines::ProcessingPlayerPercent,
    closing_lines: ClosingLines::SuccessfullyProcessed,
    save_lines: SaveLines::BatchInsert,
    dependency_lines: DependencyLines::StaleSummary,
    dependencies: &[Dependency {
        table: &UPCOMING_TEAM_GAME_CONTEXT,
        date_column: "game_date",
        expected_rows: 2,
        critical: true,
        max_age_hours: 12,
    }],
};

#[derive(Default)]
pub struct ToyProcessor;

#[async_trait]
impl Processor for ToyProcessor {
    type DateInputs = ToyInputs;
    type Entity = Team;
    type Row = ToyOutput;

    fn info(&self) -> &'static ProcessorInfo {
        &INFO
    }

    async fn extract(
        &self,
        reader: &InputReader<'_>,
        dates: &[NaiveDate],
        _schedule: &RunSchedule,
    ) -> Result<BTreeMap<NaiveDate, ToyInputs>, ExtractError> {
        let rows = reader
            .read(
                &UPCOMING_TEAM_GAME_CONTEXT,
                &["team_abbr", "opponent_team_abbr", "game_id", "game_total"],
                "game_date",
                DateFilter::On(dates.to_vec()),
            )
            .await?;
        let mut inputs: BTreeMap<NaiveDate, ToyInputs> =
            dates.iter().map(|date| (*date, ToyInputs { teams: Vec::new() })).collect();
        for row in rows.iter() {
            let date = row.required_date("game_date")?;
            inputs.entry(date).or_insert_with(|| ToyInputs { teams: Vec::new() }).teams.push(Team {
                team_abbr: row.required_text("team_abbr")?,
                opponent_team_abbr: row.text("opponent_team_abbr"),
                game_id: row.required_text("game_id")?,
                game_total: row.float("game_total"),
            });
        }
        Ok(inputs)
    }

    fn entities(&self, inputs: &ToyInputs) -> Vec<Team> {
        inputs.teams.clone()
    }

    fn entity_id(&self, entity: &Team) -> String {
        entity.team_abbr.clone()
    }

    fn process_entity(
        &self,
        team: &Team,
        _inputs: &ToyInputs,
        context: &RunContext,
    ) -> Result<ToyOutput, EntityFailure> {
        if team.team_abbr == "BOOM" {
            panic!("the toy panics for BOOM");
        }
        if team.team_abbr == "HOLD" {
            return Err(EntityFailure::new(
                &team.team_abbr,
                FailureCategory::IncompleteDataSkipped,
                "Incomplete own data: 40.0%",
            ));
        }
        let opponent = team.opponent_team_abbr.clone().ok_or_else(|| {
            EntityFailure::new(
                &team.team_abbr,
                FailureCategory::MissingData,
                "no opponent in the team context",
            )
        })?;
        Ok(ToyOutput {
            game_id: team.game_id.clone(),
            game_date: context.date,
            team_abbr: team.team_abbr.clone(),
            opponent_team_abbr: opponent,
            season_year: i64::from(framework::dates::season_year(context.date)),
            points_scored: team.game_total.map(|total| (total / 2.0).round() as i64),
        })
    }
}

/// The toy's output: a few columns of `team_offense_game_summary`, the others NULL.
#[derive(Clone, Debug, PartialEq)]
pub struct ToyOutput {
    pub game_id: String,
    pub game_date: NaiveDate,
    pub team_abbr: String,
    pub opponent_team_abbr: String,
    pub season_year: i64,
    pub points_scored: Option<i64>,
}

impl framework::TableRow for ToyOutput {
    const TABLE: &'static framework::schema::Table = &TEAM_OFFENSE_GAME_SUMMARY;
    const COLUMNS: &'static [&'static str] =
        &["game_id", "game_date", "team_abbr", "opponent_team_abbr", "season_year", "points_scored"];

    fn values(&self) -> Vec<framework::Value> {
        use framework::ToValue as _;
        TEAM_OFFENSE_GAME_SUMMARY.row(vec![
            ("game_id", self.game_id.to_value()),
            ("game_date", self.game_date.to_value()),
            ("team_abbr", self.team_abbr.to_value()),
            ("opponent_team_abbr", self.opponent_team_abbr.to_value()),
            ("season_year", self.season_year.to_value()),
            ("points_scored", self.points_scored.to_value()),
        ])
    }
}
