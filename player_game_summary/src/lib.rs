//! player_game_summary
