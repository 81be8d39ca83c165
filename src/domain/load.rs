//! Load scores: the one-click answer to "How heavy is your load this week?".

use std::fmt;

/// An answer on the 1–5 load scale. 4 and 5 count as strain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LoadScore(u8);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a load score is a whole number from 1 (light) to 5 (overwhelmed)")]
pub struct InvalidLoadScore;

impl LoadScore {
    pub const ALL: [LoadScore; 5] = [
        LoadScore(1),
        LoadScore(2),
        LoadScore(3),
        LoadScore(4),
        LoadScore(5),
    ];

    pub fn value(self) -> u8 {
        self.0
    }

    /// The button label shown to members.
    pub fn label(self) -> &'static str {
        match self.0 {
            1 => "Light",
            2 => "Comfortable",
            3 => "Full",
            4 => "Stretched",
            _ => "Overwhelmed",
        }
    }

    /// Stretched or overwhelmed: the answers that offer help and extend a streak.
    pub fn is_strain(self) -> bool {
        self.0 >= 4
    }
}

impl TryFrom<i64> for LoadScore {
    type Error = InvalidLoadScore;
    fn try_from(value: i64) -> Result<Self, Self::Error> {
        match value {
            1..=5 => Ok(LoadScore(value as u8)),
            _ => Err(InvalidLoadScore),
        }
    }
}

impl std::str::FromStr for LoadScore {
    type Err = InvalidLoadScore;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let n: i64 = s.trim().parse().map_err(|_| InvalidLoadScore)?;
        LoadScore::try_from(n)
    }
}

impl fmt::Display for LoadScore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_to_five_are_scores() {
        assert!(LoadScore::try_from(0).is_err());
        assert!(LoadScore::try_from(6).is_err());
        assert_eq!("4".parse::<LoadScore>().unwrap().label(), "Stretched");
        assert!("x".parse::<LoadScore>().is_err());
        assert!(LoadScore::try_from(4).unwrap().is_strain());
        assert!(!LoadScore::try_from(3).unwrap().is_strain());
    }
}
