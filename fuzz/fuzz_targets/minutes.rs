//! Fuzzes `player_game_summary::parsing::parse_minutes` with arbitrary text.
//!
//! The minutes cell is the one stat that reaches PGS as free text from two feeds (gamebook
//! `"MM:SS"`, BDL decimal strings), so it is where unexpected input lands. The properties asserted
//! are `parsing::properties::check_minutes`, which `cargo test` also runs over `corpus/minutes`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use player_game_summary::parsing::properties::check_minutes;

fuzz_target!(|data: &[u8]| {
    // The cell is text in the warehouse: bytes that are not UTF-8 never reach the parser.
    if let Ok(text) = std::str::from_utf8(data) {
        check_minutes(text);
    }
});
