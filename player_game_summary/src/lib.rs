//! Player Game Summary (PGS, phase 3): one `nba_analytics.player_game_summary` row per player
//! per game, from the NBA.com gamebook (BallDontLie box scores as the per-player fallback), Odds
//! API prop lines, the players registry and the schedule's final scores.
//!
//! The specification is `shared/spec/reference-pgs.md` under the port decisions of
//! `shared/spec/README.md` §4 (items 1–13). This crate holds the pure part: typed inputs,
//! their assembly per date, and the per-entity computation; extraction and saving are wired by
//! the framework.
//!
//! # Layout
//! - [`inputs`]: typed upstream rows, [`inputs::build_date_inputs`] (dedupe, gamebook/BDL merge,
//!   indexes) and the `player_lookup` normaliser.
//! - [`compute`]: [`compute::entities`], [`compute::process_entity`], [`compute::date_failures`]
//!   and every formula of the row.
//! - [`row`]: the output rows (`player_game_summary`, `unresolved_player_names`).
//! - [`unresolved`]: registry misses — run counts and `unresolved_player_names` rows.
//! - [`parsing`]: minutes and plus/minus text; [`validation`]: impossible values.
//! - [`game`]: teams from the game id, team totals, final scores; [`props`]: the prop line;
//!   [`registry`]: universal ids by season. Duplicate rows are resolved by
//!   `framework::dedupe` (latest `processed_at` wins).
//! - [`bdl_json`]: balldontlie API JSON → BDL rows (real-data tests, loading).

pub mod bdl_json;
pub mod compute;
pub mod game;
pub mod inputs;
pub mod parsing;
pub mod props;
pub mod registry;
pub mod row;
pub mod unresolved;
pub mod validation;
