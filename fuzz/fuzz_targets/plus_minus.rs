//! Fuzzes `player_game_summary::parsing::parse_plus_minus` with arbitrary bytes.
//!
//! The properties asserted are `parsing::properties::check_plus_minus` (the bytes are read both
//! as text and, when there are 8, as an `i64` that must round-trip), which `cargo test` also runs
//! over `corpus/plus_minus`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use player_game_summary::parsing::properties::check_plus_minus;

fuzz_target!(|data: &[u8]| check_plus_minus(data));
