//! The `player_composite_factors` binary: the shared command line over this processor.

fn main() -> std::process::ExitCode {
    framework::cli::main(player_composite_factors::PlayerCompositeFactorsProcessor)
}
