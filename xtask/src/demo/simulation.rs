//! Plays the season: who is available, who plays how long, and every player's box score line,
//! game by game over the real schedule.
//!
//! Availability: a player starts an injury with a small chance per team game and then misses a
//! stretch of games; his first game back he is listed questionable. Deep-bench players are often
//! coach's-decision DNPs. Minutes: the five best available start (about 30–36 minutes), the bench
//! shares the remaining 240 by slot. Shooting: attempts are drawn from the player's profile,
//! scaled so the team's expected points meet the real final score, then makes are added or
//! removed until the team's points equal it exactly, so `points = 2·FGM + 3PM + FTM` always holds
//! and makes never exceed attempts.

use chrono::NaiveDate;
use rand_chacha::ChaCha8Rng;

use super::roster::{PlayingProfile, Roster, TeamDefense};
use super::sampling::{binomial, chance, normal, pick_weighted, poisson, uniform};
use super::schedule::{ScheduleGame, SeasonPhase};

/// Seconds of player time per team in a regulation game (5 players × 48 minutes).
pub const TEAM_SECONDS: i64 = 240 * 60;
/// Chance that a healthy player gets hurt in a given team game.
const INJURY_CHANCE_PER_GAME: f64 = 0.018;
/// Minutes of the bench slots 6th man onwards, before the player's minutes factor.
const BENCH_SLOT_MINUTES: [f64; 10] = [26.0, 22.0, 19.0, 16.0, 12.0, 8.0, 5.0, 4.0, 3.0, 2.0];
/// Injury-report notes used as gamebook `dnp_reason`.
const INJURY_NOTES: [&str; 6] = [
    "Injury/Illness - Left Ankle; Sprain",
    "Injury/Illness - Right Knee; Soreness",
    "Injury/Illness - Left Hamstring; Strain",
    "Injury/Illness - Illness",
    "Injury/Illness - Lower Back; Spasms",
    "Injury/Illness - Right Foot; Contusion",
];
/// The gamebook's reason for a healthy scratch.
pub const COACH_DECISION_NOTE: &str = "DNP - Coach's Decision";

/// Whether and why a rostered player did or did not play.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineStatus {
    Played,
    /// Healthy, did not play.
    CoachDecision,
    /// Out injured (the gamebook's `inactive`).
    Injured,
}

/// Field-goal attempts by zone and free throws. Makes never exceed attempts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShootingLine {
    pub paint_attempts: i64,
    pub paint_makes: i64,
    pub mid_range_attempts: i64,
    pub mid_range_makes: i64,
    pub three_pt_attempts: i64,
    pub three_pt_makes: i64,
    pub ft_attempts: i64,
    pub ft_makes: i64,
}

impl ShootingLine {
    pub fn field_goals_attempted(&self) -> i64 {
        self.paint_attempts + self.mid_range_attempts + self.three_pt_attempts
    }

    pub fn field_goals_made(&self) -> i64 {
        self.paint_makes + self.mid_range_makes + self.three_pt_makes
    }

    /// `2·FGM + 3PM + FTM`.
    pub fn points(&self) -> i64 {
        2 * self.field_goals_made() + self.three_pt_makes + self.ft_makes
    }

    pub fn add(&mut self, other: &ShootingLine) {
        self.paint_attempts += other.paint_attempts;
        self.paint_makes += other.paint_makes;
        self.mid_range_attempts += other.mid_range_attempts;
        self.mid_range_makes += other.mid_range_makes;
        self.three_pt_attempts += other.three_pt_attempts;
        self.three_pt_makes += other.three_pt_makes;
        self.ft_attempts += other.ft_attempts;
        self.ft_makes += other.ft_makes;
    }
}

/// One rostered player in one game. Counting stats are zero unless the player played.
#[derive(Clone, Debug, PartialEq)]
pub struct PlayerLine {
    pub player_id: usize,
    pub status: LineStatus,
    /// The injury note while out.
    pub injury_note: Option<&'static str>,
    /// Listed questionable before the game (his first game back from an injury).
    pub listed_questionable: bool,
    pub starter: bool,
    pub seconds: i64,
    pub shooting: ShootingLine,
    pub offensive_rebounds: i64,
    pub defensive_rebounds: i64,
    pub assists: i64,
    pub steals: i64,
    pub blocks: i64,
    /// The player's blocks by the zone of the blocked shot.
    pub paint_blocks: i64,
    pub mid_range_blocks: i64,
    pub three_pt_blocks: i64,
    pub turnovers: i64,
    pub personal_fouls: i64,
    pub plus_minus: i64,
    pub assisted_fg_makes: i64,
    /// Usage rate in percent (Basketball-Reference formula, team totals of this game).
    pub usage_rate: f64,
}

impl PlayerLine {
    fn new(player_id: usize, status: LineStatus) -> Self {
        PlayerLine {
            player_id,
            status,
            injury_note: None,
            listed_questionable: false,
            starter: false,
            seconds: 0,
            shooting: ShootingLine::default(),
            offensive_rebounds: 0,
            defensive_rebounds: 0,
            assists: 0,
            steals: 0,
            blocks: 0,
            paint_blocks: 0,
            mid_range_blocks: 0,
            three_pt_blocks: 0,
            turnovers: 0,
            personal_fouls: 0,
            plus_minus: 0,
            assisted_fg_makes: 0,
            usage_rate: 0.0,
        }
    }

    pub fn points(&self) -> i64 {
        self.shooting.points()
    }

    pub fn minutes(&self) -> f64 {
        self.seconds as f64 / 60.0
    }

    pub fn played(&self) -> bool {
        self.status == LineStatus::Played
    }

    /// Expected to play before tip-off: everyone not out injured.
    pub fn available(&self) -> bool {
        self.status != LineStatus::Injured
    }

    pub fn total_rebounds(&self) -> i64 {
        self.offensive_rebounds + self.defensive_rebounds
    }
}

/// One team's side of a game.
#[derive(Clone, Debug, PartialEq)]
pub struct TeamGame {
    pub team_abbr: String,
    /// Every rostered player, best first.
    pub lines: Vec<PlayerLine>,
}

impl TeamGame {
    pub fn points(&self) -> i64 {
        self.lines.iter().map(PlayerLine::points).sum()
    }

    pub fn shooting(&self) -> ShootingLine {
        let mut total = ShootingLine::default();
        self.lines.iter().for_each(|line| total.add(&line.shooting));
        total
    }

    fn sum(&self, stat: impl Fn(&PlayerLine) -> i64) -> i64 {
        self.lines.iter().map(stat).sum()
    }

    pub fn offensive_rebounds(&self) -> i64 {
        self.sum(|line| line.offensive_rebounds)
    }

    pub fn total_rebounds(&self) -> i64 {
        self.sum(PlayerLine::total_rebounds)
    }

    pub fn assists(&self) -> i64 {
        self.sum(|line| line.assists)
    }

    pub fn turnovers(&self) -> i64 {
        self.sum(|line| line.turnovers)
    }

    pub fn personal_fouls(&self) -> i64 {
        self.sum(|line| line.personal_fouls)
    }

    /// Blocks by zone: (paint, mid-range, three).
    pub fn blocks_by_zone(&self) -> (i64, i64, i64) {
        (
            self.sum(|line| line.paint_blocks),
            self.sum(|line| line.mid_range_blocks),
            self.sum(|line| line.three_pt_blocks),
        )
    }

    /// `FGA + 0.44·FTA − OREB + TOV`.
    pub fn possessions(&self) -> f64 {
        let shooting = self.shooting();
        shooting.field_goals_attempted() as f64 + 0.44 * shooting.ft_attempts as f64
            - self.offensive_rebounds() as f64
            + self.turnovers() as f64
    }
}

/// A played game: the schedule entry and both box scores.
#[derive(Clone, Debug, PartialEq)]
pub struct SimulatedGame {
    pub schedule: ScheduleGame,
    pub phase: SeasonPhase,
    /// `YYYYMMDD_AWAY_HOME`.
    pub game_id: String,
    pub home: TeamGame,
    pub away: TeamGame,
}

impl SimulatedGame {
    pub fn game_date(&self) -> NaiveDate {
        self.schedule.game_date
    }

    /// Possessions of the game: the mean of both teams' estimates; with 48 minutes this is also
    /// the pace.
    pub fn possessions(&self) -> f64 {
        (self.home.possessions() + self.away.possessions()) / 2.0
    }

    /// Both sides as (team, opponent, is_home).
    pub fn sides(&self) -> [(&TeamGame, &TeamGame, bool); 2] {
        [(&self.home, &self.away, true), (&self.away, &self.home, false)]
    }
}

/// Health of one player between games.
#[derive(Clone, Copy, Debug, Default)]
struct Health {
    games_out_remaining: u32,
    injury_note: Option<&'static str>,
    returning: bool,
}

/// Plays `games` (date order) with `roster`.
pub fn simulate_season(rng: &mut ChaCha8Rng, roster: &Roster, games: &[ScheduleGame]) -> Vec<SimulatedGame> {
    let mut health = vec![Health::default(); roster.players.len()];
    games
        .iter()
        .map(|game| {
            let phase = game.season_phase().unwrap_or(SeasonPhase::RegularSeason);
            let (home_target, away_target) = target_scores(rng, game);
            let mut home = play_team(
                rng,
                roster,
                &mut health,
                &game.home_team_abbr,
                &game.away_team_abbr,
                game.game_date,
                home_target,
            );
            let mut away = play_team(
                rng,
                roster,
                &mut health,
                &game.away_team_abbr,
                &game.home_team_abbr,
                game.game_date,
                away_target,
            );
            finish_team_lines(rng, &mut home, &away);
            finish_team_lines(rng, &mut away, &home);
            SimulatedGame { schedule: game.clone(), phase, game_id: game.box_score_game_id(), home, away }
        })
        .collect()
}

/// The real final score, or a plausible one (never a tie) when the schedule has none.
fn target_scores(rng: &mut ChaCha8Rng, game: &ScheduleGame) -> (i64, i64) {
    if let Some(score) = game.final_score() {
        return score;
    }
    let home = normal(rng, 114.0, 11.0).round() as i64;
    let away = normal(rng, 111.0, 11.0).round() as i64;
    (home, if away == home { away - 1 } else { away })
}

fn play_team(
    rng: &mut ChaCha8Rng,
    roster: &Roster,
    health: &mut [Health],
    team_abbr: &str,
    opponent_abbr: &str,
    game_date: NaiveDate,
    target_points: i64,
) -> TeamGame {
    let mut lines: Vec<PlayerLine> = roster
        .team_players_on(team_abbr, game_date)
        .into_iter()
        .map(|player_id| availability(rng, player_id, &mut health[player_id]))
        .collect();
    choose_coach_decisions(rng, &mut lines);
    allocate_minutes(rng, roster, &mut lines);
    let profiles: Vec<&PlayingProfile> =
        lines.iter().map(|line| &roster.players[line.player_id].profile).collect();
    let defense = roster.defenses.get(opponent_abbr).copied().unwrap_or_default();
    shoot(rng, &profiles, &defense, &mut lines, target_points);
    settle_team_score(rng, &mut lines, target_points);
    for (line, profile) in lines.iter_mut().zip(&profiles) {
        fill_counting_stats(rng, profile, line);
    }
    TeamGame { team_abbr: team_abbr.to_owned(), lines }
}

/// Advances a player's health by one team game and gives his status for it.
fn availability(rng: &mut ChaCha8Rng, player_id: usize, health: &mut Health) -> PlayerLine {
    if health.games_out_remaining == 0 && chance(rng, INJURY_CHANCE_PER_GAME) {
        let long_injury = chance(rng, 0.12);
        health.games_out_remaining = if long_injury { 10 + poisson(rng, 8.0) } else { 1 + poisson(rng, 2.5) };
        health.injury_note = Some(INJURY_NOTES[(uniform(rng, 0.0, 6.0) as usize).min(5)]);
    }
    if health.games_out_remaining > 0 {
        health.games_out_remaining -= 1;
        health.returning = health.games_out_remaining == 0;
        let mut line = PlayerLine::new(player_id, LineStatus::Injured);
        line.injury_note = health.injury_note;
        return line;
    }
    let mut line = PlayerLine::new(player_id, LineStatus::Played);
    line.listed_questionable = std::mem::take(&mut health.returning);
    line
}

/// The 10th available player and beyond sit with growing chance; at least eight always play.
fn choose_coach_decisions(rng: &mut ChaCha8Rng, lines: &mut [PlayerLine]) {
    let mut playing = 0;
    for (available_seen, line) in lines.iter_mut().filter(|line| line.available()).enumerate() {
        let sit_chance = match available_seen {
            0..=8 => 0.0,
            9 => 0.25,
            10 => 0.45,
            _ => 0.65,
        };
        if playing >= 8 && chance(rng, sit_chance) {
            line.status = LineStatus::CoachDecision;
        } else {
            playing += 1;
        }
    }
}

/// Starters draw about 33.5 minutes; the bench splits the rest of the 240 by slot.
fn allocate_minutes(rng: &mut ChaCha8Rng, roster: &Roster, lines: &mut [PlayerLine]) {
    let mut minutes: Vec<(usize, f64)> = Vec::with_capacity(lines.len());
    for (index, line) in lines.iter_mut().enumerate().filter(|(_, line)| line.played()) {
        let factor = roster.players[line.player_id].profile.minutes_factor;
        let slot = minutes.len();
        line.starter = slot < 5;
        let drawn = if slot < 5 {
            (normal(rng, 33.5, 2.5) * factor).clamp(26.0, 40.0)
        } else {
            BENCH_SLOT_MINUTES[(slot - 5).min(BENCH_SLOT_MINUTES.len() - 1)] * factor * uniform(rng, 0.8, 1.2)
        };
        minutes.push((index, drawn));
    }
    let starter_minutes: f64 = minutes.iter().take(5).map(|(_, minutes)| minutes).sum();
    let bench_minutes: f64 = minutes.iter().skip(5).map(|(_, minutes)| minutes).sum();
    let bench_scale = if bench_minutes > 0.0 { (240.0 - starter_minutes) / bench_minutes } else { 0.0 };
    let mut assigned = 0;
    for (slot, (index, drawn)) in minutes.iter().enumerate() {
        let scaled = if slot < 5 { *drawn } else { (drawn * bench_scale).min(42.0) };
        lines[*index].seconds = (scaled * 60.0).round() as i64;
        assigned += lines[*index].seconds;
    }
    // Rounding leaves a few seconds over or under 240 minutes; the sixth man absorbs them.
    if let Some((index, _)) = minutes.get(5).or(minutes.first()) {
        lines[*index].seconds += TEAM_SECONDS - assigned;
    }
}

/// Draws attempts and makes, with the team's expected points scaled toward `target_points` and
/// accuracy shifted by the opponent's defence.
fn shoot(
    rng: &mut ChaCha8Rng,
    profiles: &[&PlayingProfile],
    defense: &TeamDefense,
    lines: &mut [PlayerLine],
    target_points: i64,
) {
    let accuracy = |base: f64, shift: f64| (base + shift).clamp(0.05, 0.95);
    let expected: f64 =
        lines.iter().zip(profiles).map(|(line, profile)| profile.points_per_36 * line.minutes() / 36.0).sum();
    let scale = if expected > 0.0 { (target_points as f64 / expected).clamp(0.7, 1.4) } else { 1.0 };
    for (line, profile) in lines.iter_mut().zip(profiles).filter(|(line, _)| line.played()) {
        let expected_points = profile.points_per_36 * line.minutes() / 36.0 * scale;
        let attempts_mean = expected_points / profile.points_per_field_goal_attempt();
        let attempts = poisson(rng, attempts_mean);
        let threes = binomial(rng, attempts, profile.three_point_share);
        let paint = binomial(rng, attempts - threes, profile.paint_share_of_twos);
        let mid_range = attempts - threes - paint;
        let free_throws = poisson(rng, attempts_mean * profile.free_throw_rate);
        line.shooting = ShootingLine {
            paint_attempts: paint.into(),
            paint_makes: binomial(rng, paint, accuracy(profile.paint_pct, defense.paint)).into(),
            mid_range_attempts: mid_range.into(),
            mid_range_makes: binomial(rng, mid_range, accuracy(profile.mid_range_pct, defense.mid_range))
                .into(),
            three_pt_attempts: threes.into(),
            three_pt_makes: binomial(rng, threes, accuracy(profile.three_pt_pct, defense.three_pt)).into(),
            ft_attempts: free_throws.into(),
            ft_makes: binomial(rng, free_throws, profile.free_throw_pct).into(),
        };
    }
}

/// Adds made shots (with their attempts) or turns makes into misses until the team's points equal
/// `target_points`. Players are picked in proportion to minutes (adding) or points (removing).
fn settle_team_score(rng: &mut ChaCha8Rng, lines: &mut [PlayerLine], target_points: i64) {
    let mut difference = target_points - lines.iter().map(PlayerLine::points).sum::<i64>();
    while difference != 0 {
        if difference > 0 {
            let weights: Vec<f64> = lines.iter().map(|line| line.seconds as f64).collect();
            let shooting = &mut lines[pick_weighted(rng, &weights)].shooting;
            if difference >= 2 {
                shooting.paint_attempts += 1;
                shooting.paint_makes += 1;
                difference -= 2;
            } else {
                shooting.ft_attempts += 1;
                shooting.ft_makes += 1;
                difference -= 1;
            }
        } else {
            let weights: Vec<f64> = lines.iter().map(|line| line.points() as f64).collect();
            let shooting = &mut lines[pick_weighted(rng, &weights)].shooting;
            difference += miss_one_make(shooting, difference);
        }
    }
}

/// Turns one make into a miss, preferring the shot value that closes `difference` (negative);
/// returns the points removed. A player picked by points always has a make.
fn miss_one_make(shooting: &mut ShootingLine, difference: i64) -> i64 {
    if difference == -1 && shooting.ft_makes > 0 {
        shooting.ft_makes -= 1;
        return 1;
    }
    if shooting.mid_range_makes > 0 {
        shooting.mid_range_makes -= 1;
        return 2;
    }
    if shooting.paint_makes > 0 {
        shooting.paint_makes -= 1;
        return 2;
    }
    if shooting.ft_makes > 0 {
        shooting.ft_makes -= 1;
        return 1;
    }
    if shooting.three_pt_makes > 0 {
        shooting.three_pt_makes -= 1;
        return 3;
    }
    0
}

/// Rebounds, assists, steals, blocks (with their zones), turnovers, fouls and assisted makes.
fn fill_counting_stats(rng: &mut ChaCha8Rng, profile: &PlayingProfile, line: &mut PlayerLine) {
    if !line.played() {
        return;
    }
    let per_36 = line.minutes() / 36.0;
    let rebounds = poisson(rng, profile.rebounds_per_36 * per_36);
    line.offensive_rebounds = binomial(rng, rebounds, profile.offensive_rebound_share).into();
    line.defensive_rebounds = i64::from(rebounds) - line.offensive_rebounds;
    line.assists = poisson(rng, profile.assists_per_36 * per_36).into();
    line.steals = poisson(rng, profile.steals_per_36 * per_36).into();
    line.blocks = poisson(rng, profile.blocks_per_36 * per_36).into();
    for _ in 0..line.blocks {
        match uniform(rng, 0.0, 1.0) {
            zone if zone < 0.7 => line.paint_blocks += 1,
            zone if zone < 0.9 => line.mid_range_blocks += 1,
            _ => line.three_pt_blocks += 1,
        }
    }
    line.turnovers = poisson(rng, profile.turnovers_per_36 * per_36).into();
    line.personal_fouls = i64::from(poisson(rng, profile.fouls_per_36 * per_36)).min(6);
    let makes = line.shooting.field_goals_made() as u32;
    line.assisted_fg_makes = binomial(rng, makes, profile.assisted_share).into();
}

/// Plus/minus and usage rate need both teams' lines.
fn finish_team_lines(rng: &mut ChaCha8Rng, team: &mut TeamGame, opponent: &TeamGame) {
    let margin = (team.points() - opponent.points()) as f64;
    let shooting = team.shooting();
    let team_plays = shooting.field_goals_attempted() as f64
        + 0.44 * shooting.ft_attempts as f64
        + team.turnovers() as f64;
    for line in team.lines.iter_mut().filter(|line| line.played()) {
        line.plus_minus = (margin * line.seconds as f64 / 2880.0 + normal(rng, 0.0, 3.0)).round() as i64;
        let player_plays = line.shooting.field_goals_attempted() as f64
            + 0.44 * line.shooting.ft_attempts as f64
            + line.turnovers as f64;
        // Usage % = 100 · plays · (team minutes / 5) / (minutes · team plays).
        line.usage_rate = if line.seconds > 0 && team_plays > 0.0 {
            100.0 * player_plays * 48.0 / (line.minutes() * team_plays)
        } else {
            0.0
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_are_two_per_field_goal_plus_threes_plus_free_throws() {
        let shooting = ShootingLine {
            paint_attempts: 6,
            paint_makes: 4,
            mid_range_attempts: 3,
            mid_range_makes: 1,
            three_pt_attempts: 7,
            three_pt_makes: 3,
            ft_attempts: 5,
            ft_makes: 4,
        };
        // FGM 8, 3PM 3, FTM 4: 2·8 + 3 + 4 = 23 (= 2·5 twos + 3·3 threes + 4).
        assert_eq!(shooting.points(), 23);
        assert_eq!(shooting.field_goals_attempted(), 16);
    }

    #[test]
    fn missing_a_make_prefers_the_value_that_closes_the_gap() {
        let mut shooting = ShootingLine {
            ft_attempts: 2,
            ft_makes: 2,
            paint_attempts: 1,
            paint_makes: 1,
            ..Default::default()
        };
        assert_eq!(miss_one_make(&mut shooting, -1), 1);
        assert_eq!(miss_one_make(&mut shooting, -3), 2);
        assert_eq!(
            shooting,
            ShootingLine { ft_attempts: 2, ft_makes: 1, paint_attempts: 1, ..Default::default() }
        );
    }
}
