//! Seeded random streams and the few distributions the generator draws from.
//!
//! Each concern (rosters, games, prop lines, gamebook coverage) draws from its own ChaCha8 stream
//! of the one seed, so changing how prop lines are drawn never changes a box score. The
//! distributions are written out here because `rand` 0.9 alone has none beyond uniform, and their
//! exact algorithms are part of what makes a seed reproduce byte-identical rows.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The independent random streams of one seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Roster = 1,
    Games = 2,
    PropLines = 3,
    SourceCoverage = 4,
}

/// The generator of one stream: `ChaCha8Rng::seed_from_u64(seed)` on stream number `stream`.
pub fn stream(seed: u64, stream: Stream) -> ChaCha8Rng {
    let mut generator = ChaCha8Rng::seed_from_u64(seed);
    generator.set_stream(stream as u64);
    generator
}

/// A normal draw by the Box–Muller transform (one uniform pair per draw, the second value unused,
/// so a draw always consumes exactly two numbers).
pub fn normal(rng: &mut ChaCha8Rng, mean: f64, standard_deviation: f64) -> f64 {
    let uniform_open: f64 = 1.0 - rng.random::<f64>();
    let angle: f64 = rng.random::<f64>() * std::f64::consts::TAU;
    mean + standard_deviation * (-2.0 * uniform_open.ln()).sqrt() * angle.cos()
}

/// A Poisson count by Knuth's multiplication method; `mean` above 60 falls back to a rounded
/// normal (box-score means stay far below that).
pub fn poisson(rng: &mut ChaCha8Rng, mean: f64) -> u32 {
    if mean <= 0.0 {
        return 0;
    }
    if mean > 60.0 {
        return normal(rng, mean, mean.sqrt()).round().max(0.0) as u32;
    }
    let limit = (-mean).exp();
    let mut product: f64 = rng.random::<f64>();
    let mut count = 0;
    while product > limit {
        product *= rng.random::<f64>();
        count += 1;
    }
    count
}

/// A binomial count as `trials` Bernoulli draws (trials are shot attempts: a few dozen at most).
pub fn binomial(rng: &mut ChaCha8Rng, trials: u32, probability: f64) -> u32 {
    (0..trials).filter(|_| rng.random::<f64>() < probability).count() as u32
}

/// An index drawn with probability proportional to its weight; weights are non-negative and not
/// all zero (callers pass minutes or points of players who played).
pub fn pick_weighted(rng: &mut ChaCha8Rng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut target = rng.random::<f64>() * total;
    for (index, weight) in weights.iter().enumerate() {
        if target < *weight {
            return index;
        }
        target -= weight;
    }
    weights.iter().rposition(|weight| *weight > 0.0).unwrap_or(0)
}

/// A uniform draw in `[low, high)`.
pub fn uniform(rng: &mut ChaCha8Rng, low: f64, high: f64) -> f64 {
    low + (high - low) * rng.random::<f64>()
}

/// True with probability `probability`.
pub fn chance(rng: &mut ChaCha8Rng, probability: f64) -> bool {
    rng.random::<f64>() < probability
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_seed_and_stream_repeat_and_streams_differ() {
        let first: Vec<u32> = (0..5).map(|_| stream(7, Stream::Games).random()).collect();
        let mut games = stream(7, Stream::Games);
        let again: Vec<u32> = (0..5).map(|_| games.random()).collect();
        let mut props = stream(7, Stream::PropLines);
        let other: Vec<u32> = (0..5).map(|_| props.random()).collect();
        assert_eq!(first[0], again[0]);
        assert_ne!(again, other);
    }

    #[test]
    fn poisson_and_binomial_means_are_close() {
        let mut rng = stream(1, Stream::Games);
        let draws = 20_000;
        let poisson_mean = (0..draws).map(|_| poisson(&mut rng, 12.0) as f64).sum::<f64>() / draws as f64;
        let binomial_mean =
            (0..draws).map(|_| binomial(&mut rng, 20, 0.45) as f64).sum::<f64>() / draws as f64;
        assert!((poisson_mean - 12.0).abs() < 0.15, "{poisson_mean}");
        assert!((binomial_mean - 9.0).abs() < 0.1, "{binomial_mean}");
        assert_eq!(poisson(&mut rng, 0.0), 0);
    }

    #[test]
    fn weighted_picks_never_choose_zero_weights() {
        let mut rng = stream(3, Stream::Roster);
        for _ in 0..1000 {
            assert_ne!(pick_weighted(&mut rng, &[1.0, 0.0, 2.0]), 1);
        }
    }
}
