//! The four context JSON columns (reference-pcf.md §3.11), byte-identical to the reference's
//! `json.dumps` of an ordered dict.
//!
//! Python's defaults shape the text: `", "` and `": "` separators, floats as `repr` (`175.0`,
//! `1.8900000000000001`, `-0.0`), ints without a decimal point, `true`/`false`, and every
//! non-ASCII character escaped (`ensure_ascii`). Each context uses its own defaults, which differ
//! from the scores' defaults on purpose (§7 item 14): a context may contradict its score.

use std::fmt::Write as _;

use super::factors::{FatigueInputs, LEAGUE_AVERAGE_PACE, MappedZone, present};
use crate::inputs::{PlayerShotZoneAnalysisRow, TeamDefenseZoneAnalysisRow, UpcomingPlayerGameContextRow};
use framework::rounding::{push_decimal_digits, write_python_float};

/// An object key as the two texts that can introduce it, each one literal made at compile time:
/// `{"key": ` opening the object and `, "key": ` after another entry. Keys are this module's own
/// snake_case literals, which need no escaping.
macro_rules! key {
    ($name:literal) => {
        JsonKey { opening: concat!("{\"", $name, "\": "), following: concat!(", \"", $name, "\": ") }
    };
}

/// The shot-zone context when the shot or the defence row is missing.
pub const MISSING_SHOT_ZONE_CONTEXT: &str = r#"{"missing_data": true}"#;

/// `fatigue_context_json`: the context's inputs (days_rest defaults to 0 here, not 1), the
/// penalties and bonuses the reference lists (only four penalty kinds; the rest bonus is listed
/// even on a back-to-back) and the integer score.
pub fn fatigue_context_json(context: &UpcomingPlayerGameContextRow, fatigue_score: i64) -> String {
    let inputs = FatigueInputs::for_context(context);
    let penalties = [
        (inputs.back_to_back, "back_to_back: -15"),
        (inputs.games_last_7 >= 4, "frequent_games: -10"),
        (inputs.minutes_last_7 > 240.0, "heavy_minutes: -10"),
        (inputs.player_age >= 35, "veteran_age: -10"),
    ];
    let bonuses = [(inputs.days_rest >= 3, "extra_rest: +5")];
    PythonJsonObject::with_capacity(FATIGUE_CONTEXT_CAPACITY)
        .int(key!("days_rest"), inputs.days_rest)
        .boolean(key!("back_to_back"), inputs.back_to_back)
        .int(key!("games_last_7"), inputs.games_last_7)
        .float(key!("minutes_last_7"), inputs.minutes_last_7)
        .float(key!("avg_minutes_pg_last_7"), inputs.avg_minutes_last_7)
        .int(key!("back_to_backs_last_14"), inputs.back_to_backs_last_14)
        .int(key!("player_age"), inputs.player_age)
        .labels(key!("penalties_applied"), applied(&penalties))
        .labels(key!("bonuses_applied"), applied(&bonuses))
        .int(key!("final_score"), fatigue_score)
        .finish()
}

/// The texts of the entries that apply, in order.
fn applied(entries: &[(bool, &'static str)]) -> impl Iterator<Item = &'static str> {
    entries.iter().filter_map(|(applies, text)| applies.then_some(*text))
}

/// `shot_zone_context_json`: the zones as written upstream ('unknown' when NULL), the mapped
/// zone's rate and defence (0.0 when missing, not the score's 50.0) and the unrounded score.
pub fn shot_zone_context_json(
    shot: Option<&PlayerShotZoneAnalysisRow>,
    defense: Option<&TeamDefenseZoneAnalysisRow>,
    shot_zone_mismatch: f64,
) -> String {
    let (Some(shot), Some(defense)) = (shot, defense) else {
        return MISSING_SHOT_ZONE_CONTEXT.to_owned();
    };
    let zone = MappedZone::of(shot.primary_scoring_zone.as_deref());
    PythonJsonObject::with_capacity(CONTEXT_CAPACITY)
        .string(key!("player_primary_zone"), shot.primary_scoring_zone.as_deref().unwrap_or("unknown"))
        .float(key!("primary_zone_frequency"), zone.usage_rate(shot).unwrap_or(0.0))
        .string(key!("opponent_weak_zone"), defense.weakest_zone.as_deref().unwrap_or("unknown"))
        .float(key!("opponent_defense_vs_league"), zone.defense_vs_league(defense).unwrap_or(0.0))
        .label(
            key!("mismatch_type"),
            label_by_threshold(shot_zone_mismatch, ["favorable", "unfavorable", "neutral"]),
        )
        .float(key!("final_score"), shot_zone_mismatch)
        .finish()
}

/// `pace_context_json`: the differential (0.0 when missing), the opponent's pace (100.0 when
/// missing), the league average and the unrounded score.
pub fn pace_context_json(context: &UpcomingPlayerGameContextRow, pace: f64) -> String {
    let pace_differential = present(context.pace_differential).unwrap_or(0.0);
    PythonJsonObject::with_capacity(CONTEXT_CAPACITY)
        .float(key!("pace_differential"), pace_differential)
        .float(key!("opponent_pace_last_10"), present(context.opponent_pace_last_10).unwrap_or(100.0))
        .float(key!("league_avg_pace"), LEAGUE_AVERAGE_PACE)
        .label(key!("pace_environment"), label_by_threshold(pace_differential, ["fast", "slow", "normal"]))
        .float(key!("final_score"), pace)
        .finish()
}

/// `usage_context_json`: both rates default to 0.0 here (the score used 25.0), so a NULL
/// projection shows as 0.0 next to a score computed from 25.0, as in the reference.
pub fn usage_context_json(context: &UpcomingPlayerGameContextRow, usage_spike: f64) -> String {
    let projected = present(context.projected_usage_rate).unwrap_or(0.0);
    let baseline = present(context.avg_usage_rate_last_7_games).unwrap_or(0.0);
    let usage_differential = projected - baseline;
    PythonJsonObject::with_capacity(CONTEXT_CAPACITY)
        .float(key!("projected_usage_rate"), projected)
        .float(key!("avg_usage_last_7"), baseline)
        .float(key!("usage_differential"), usage_differential)
        .int(key!("star_teammates_out"), context.star_teammates_out.unwrap_or(0))
        .label(key!("usage_trend"), label_by_threshold(usage_differential, ["spike", "drop", "stable"]))
        .float(key!("final_score"), usage_spike)
        .finish()
}

/// The first label above 2.0, the second below −2.0, the third otherwise (strict bounds).
fn label_by_threshold(value: f64, [above, below, between]: [&'static str; 3]) -> &'static str {
    if value > 2.0 {
        above
    } else if value < -2.0 {
        below
    } else {
        between
    }
}

/// See [`key!`].
#[derive(Clone, Copy)]
struct JsonKey {
    opening: &'static str,
    following: &'static str,
}

/// A JSON object written the way Python's `json.dumps` writes a dict with default options.
///
/// The methods are always inlined into the four context builders, so that each key, with the
/// brace or separator before it, is one literal copied with fixed-size moves: four pushes per
/// key had cost about twenty instructions more. They borrow the object rather than take and
/// return it: each move of the text's three words through the stack was a load waiting on
/// stores it could not be forwarded from (9 % of the fatigue context's time in `perf`).
struct PythonJsonObject {
    text: String,
}

/// Room for the shot-zone, pace and usage contexts (at most ~210 bytes with the usual zone
/// names) and the 32 bytes a number's fixed-size copy reserves past the end (see
/// `framework::rounding::write_python_float`): grown, a row's string is copied and freed.
const CONTEXT_CAPACITY: usize = 256;

/// The fatigue context is the longest: ~240 bytes, ~290 with a penalty, 330 with all of them.
const FATIGUE_CONTEXT_CAPACITY: usize = 384;

impl PythonJsonObject {
    fn with_capacity(capacity: usize) -> PythonJsonObject {
        PythonJsonObject { text: String::with_capacity(capacity) }
    }

    #[inline(always)]
    fn key(&mut self, key: JsonKey) {
        // Two pushes, not one of a chosen text: a length known in each branch is what keeps
        // the copy inline.
        if self.text.is_empty() {
            self.text.push_str(key.opening);
        } else {
            self.text.push_str(key.following);
        }
    }

    #[inline(always)]
    fn int(&mut self, key: JsonKey, value: i64) -> &mut PythonJsonObject {
        self.key(key);
        if value < 0 {
            self.text.push('-');
        }
        push_decimal_digits(&mut self.text, value.unsigned_abs(), 1);
        self
    }

    #[inline(always)]
    fn float(&mut self, key: JsonKey, value: f64) -> &mut PythonJsonObject {
        self.key(key);
        write_python_float(&mut self.text, value);
        self
    }

    #[inline(always)]
    fn boolean(&mut self, key: JsonKey, value: bool) -> &mut PythonJsonObject {
        self.key(key);
        // One push per branch keeps each copy inline (see `key`).
        if value {
            self.text.push_str("true");
        } else {
            self.text.push_str("false");
        }
        self
    }

    #[inline(always)]
    fn string(&mut self, key: JsonKey, value: &str) -> &mut PythonJsonObject {
        self.key(key);
        write_python_json_string(&mut self.text, value);
        self
    }

    /// One of this module's own labels, which need no escaping: the check per byte that
    /// [`string`](Self::string) makes for upstream texts is skipped.
    #[inline(always)]
    fn label(&mut self, key: JsonKey, label: &'static str) -> &mut PythonJsonObject {
        self.key(key);
        push_label(&mut self.text, label);
        self
    }

    /// A list of this module's own labels (see [`label`](Self::label)).
    #[inline(always)]
    fn labels(
        &mut self,
        key: JsonKey,
        labels: impl IntoIterator<Item = &'static str>,
    ) -> &mut PythonJsonObject {
        self.key(key);
        self.text.push('[');
        for (position, label) in labels.into_iter().enumerate() {
            if position > 0 {
                self.text.push_str(", ");
            }
            push_label(&mut self.text, label);
        }
        self.text.push(']');
        self
    }

    fn finish(&mut self) -> String {
        if self.text.is_empty() {
            self.text.push('{');
        }
        self.text.push('}');
        std::mem::take(&mut self.text)
    }
}

/// A label of this module as a JSON string: printable ASCII without quotes or backslashes.
fn push_label(out: &mut String, label: &'static str) {
    debug_assert!(!needs_escaping(label), "label {label:?} needs escaping");
    out.push('"');
    out.push_str(label);
    out.push('"');
}

/// Whether `text` has anything besides printable ASCII other than '"' and '\\'.
fn needs_escaping(text: &str) -> bool {
    !text.bytes().all(|byte| matches!(byte, b' '..=b'~') && byte != b'"' && byte != b'\\')
}

/// A JSON string literal with Python's `ensure_ascii` escaping: the two-character escapes Python
/// uses, `\u00XX` for other control characters and lowercase `\uXXXX` (surrogate pairs above
/// the BMP) for every non-ASCII character. Plain printable ASCII, the usual case, is copied whole.
fn write_python_json_string(out: &mut String, text: &str) {
    out.push('"');
    if !needs_escaping(text) {
        out.push_str(text);
        out.push('"');
        return;
    }
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(character),
            _ => {
                let mut units = [0u16; 2];
                for unit in character.encode_utf16(&mut units) {
                    write!(out, "\\u{unit:04x}").expect("writing to a String never fails");
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(text: &str) -> String {
        let mut out = String::new();
        write_python_json_string(&mut out, text);
        out
    }

    #[test]
    fn strings_are_escaped_as_python_json_dumps_does() {
        // Python: json.dumps('a"b\\c\n\x01é€😀') == '"a\\"b\\\\c\\n\\u0001\\u00e9\\u20ac\\ud83d\\ude00"'
        assert_eq!(escaped("a\"b\\c\n\u{1}é€😀"), r#""a\"b\\c\n\u0001\u00e9\u20ac\ud83d\ude00""#);
        assert_eq!(escaped("\u{7f}"), r#""\u007f""#);
    }

    #[test]
    fn empty_lists_and_labels_use_python_separators() {
        let text = PythonJsonObject::with_capacity(CONTEXT_CAPACITY)
            .labels(key!("a"), [])
            .labels(key!("b"), ["x", "y"])
            .int(key!("c"), -3)
            .finish();
        assert_eq!(text, r#"{"a": [], "b": ["x", "y"], "c": -3}"#);
        assert_eq!(PythonJsonObject::with_capacity(CONTEXT_CAPACITY).finish(), "{}");
    }

    #[test]
    fn the_longest_usual_contexts_fit_their_first_allocation() {
        // Every penalty and the bonus, and numbers longer than upstream's one decimal.
        let context = UpcomingPlayerGameContextRow {
            days_rest: Some(3),
            back_to_back: Some(true),
            games_in_last_7_days: Some(4),
            minutes_in_last_7_days: Some(250.25),
            avg_minutes_per_game_last_7: Some(36.0833),
            back_to_backs_last_14_days: Some(2),
            player_age: Some(38),
            projected_usage_rate: Some(31.1),
            avg_usage_rate_last_7_games: Some(27.3),
            star_teammates_out: Some(2),
            pace_differential: Some(-5.8),
            opponent_pace_last_10: Some(94.2),
            ..Default::default()
        };
        let fatigue = fatigue_context_json(&context, 35);
        assert_eq!(
            fatigue,
            r#"{"days_rest": 3, "back_to_back": true, "games_last_7": 4, "minutes_last_7": 250.25, "avg_minutes_pg_last_7": 36.0833, "back_to_backs_last_14": 2, "player_age": 38, "penalties_applied": ["back_to_back: -15", "frequent_games: -10", "heavy_minutes: -10", "veteran_age: -10"], "bonuses_applied": ["extra_rest: +5"], "final_score": 35}"#
        );
        assert_eq!(fatigue.capacity(), FATIGUE_CONTEXT_CAPACITY);
        let shot = PlayerShotZoneAnalysisRow {
            primary_scoring_zone: Some("mid_range".into()),
            mid_range_rate_last_10: Some(0.3333333333333333),
            ..Default::default()
        };
        let defense = TeamDefenseZoneAnalysisRow {
            weakest_zone: Some("mid_range".into()),
            mid_range_defense_vs_league_avg: Some(-12.345678901234567),
            ..Default::default()
        };
        let others = [
            shot_zone_context_json(Some(&shot), Some(&defense), -1.8900000000000001),
            pace_context_json(&context, -2.9000000000000004),
            usage_context_json(&context, 1.2075000000000002),
        ];
        // 0.3333333333333333 and -12.345678901234567 as the mapped rate and defence; the usage
        // differential 31.1 - 27.3 prints as 3.8000000000000007.
        assert_eq!(others.each_ref().map(String::len), [232, 148, 182]);
        assert!(others.iter().all(|text| text.capacity() == CONTEXT_CAPACITY));
    }

    #[test]
    fn labels_have_strict_bounds() {
        let labels = ["fast", "slow", "normal"];
        assert_eq!(label_by_threshold(2.0, labels), "normal");
        assert_eq!(label_by_threshold(-2.0, labels), "normal");
        assert_eq!(label_by_threshold(2.01, labels), "fast");
        assert_eq!(label_by_threshold(-2.01, labels), "slow");
    }
}
