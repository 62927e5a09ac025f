//! player_composite_factors
