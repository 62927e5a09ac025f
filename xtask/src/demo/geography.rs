//! Where each team plays its home games, for the travel miles of the team context table.
//!
//! Neutral-site games (Mexico City, Paris, the NBA Cup in Las Vegas) are placed at the home team's
//! arena: the schedule file names the arena city but the distances only feed a context column.

/// Arena latitude and longitude (degrees) by team tricode.
const ARENAS: [(&str, f64, f64); 30] = [
    ("ATL", 33.757, -84.396),
    ("BKN", 40.683, -73.976),
    ("BOS", 42.366, -71.062),
    ("CHA", 35.225, -80.839),
    ("CHI", 41.881, -87.674),
    ("CLE", 41.496, -81.688),
    ("DAL", 32.790, -96.810),
    ("DEN", 39.749, -105.008),
    ("DET", 42.341, -83.055),
    ("GSW", 37.768, -122.388),
    ("HOU", 29.751, -95.362),
    ("IND", 39.764, -86.156),
    ("LAC", 33.945, -118.343),
    ("LAL", 34.043, -118.267),
    ("MEM", 35.138, -90.051),
    ("MIA", 25.781, -80.188),
    ("MIL", 43.045, -87.917),
    ("MIN", 44.979, -93.276),
    ("NOP", 29.949, -90.082),
    ("NYK", 40.751, -73.993),
    ("OKC", 35.463, -97.515),
    ("ORL", 28.539, -81.384),
    ("PHI", 39.901, -75.172),
    ("PHX", 33.446, -112.071),
    ("POR", 45.532, -122.667),
    ("SAC", 38.580, -121.500),
    ("SAS", 29.427, -98.437),
    ("TOR", 43.643, -79.379),
    ("UTA", 40.768, -111.901),
    ("WAS", 38.898, -77.021),
];

const EARTH_RADIUS_MILES: f64 = 3958.8;

/// Great-circle miles between two teams' arenas; 0 when either team is unknown.
pub fn miles_between_arenas(from_team: &str, to_team: &str) -> i64 {
    let (Some(from), Some(to)) = (arena(from_team), arena(to_team)) else {
        return 0;
    };
    let (latitude_from, latitude_to) = (from.0.to_radians(), to.0.to_radians());
    let latitude_change = latitude_to - latitude_from;
    let longitude_change = (to.1 - from.1).to_radians();
    let haversine = (latitude_change / 2.0).sin().powi(2)
        + latitude_from.cos() * latitude_to.cos() * (longitude_change / 2.0).sin().powi(2);
    (2.0 * EARTH_RADIUS_MILES * haversine.sqrt().asin()).round() as i64
}

fn arena(team_abbr: &str) -> Option<(f64, f64)> {
    ARENAS
        .iter()
        .find(|(team, _, _)| *team == team_abbr)
        .map(|(_, latitude, longitude)| (*latitude, *longitude))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_between_arenas() {
        assert_eq!(miles_between_arenas("LAL", "LAL"), 0);
        assert_eq!(miles_between_arenas("LAL", "LAC"), 8);
        let coast_to_coast = miles_between_arenas("BOS", "GSW");
        assert!((2690..2710).contains(&coast_to_coast), "{coast_to_coast}");
        assert_eq!(miles_between_arenas("BOS", "XXX"), 0);
    }
}
