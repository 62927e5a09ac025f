//! Workspace behaviour on a real embedded warehouse: fixtures, the run lifecycle, skips,
//! failures and atomic saves. One test binary, one module per topic.

mod bigquery;
mod deployment;
mod fixtures;
mod ml_feature_store;
mod player_composite_factors;
mod player_game_summary;
mod reliability;
mod runner;
mod toy;
mod util;
