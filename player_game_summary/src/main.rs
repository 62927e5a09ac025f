//! The `player_game_summary` binary: the shared command line over this processor.

fn main() -> std::process::ExitCode {
    framework::cli::main(player_game_summary::PlayerGameSummaryProcessor)
}
