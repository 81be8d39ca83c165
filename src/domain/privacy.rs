//! k-anonymity: the smallest group whose aggregates may be shown anywhere.

/// Minimum number of respondents before any aggregate is shown. Never below [`MinGroupSize::FLOOR`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinGroupSize(u32);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the minimum group size is a whole number of at least {}",
    MinGroupSize::FLOOR
)]
pub struct InvalidMinGroupSize;

impl MinGroupSize {
    pub const FLOOR: u32 = 3;
    pub const DEFAULT: MinGroupSize = MinGroupSize(5);

    pub fn new(n: i64) -> Result<Self, InvalidMinGroupSize> {
        if n >= Self::FLOOR as i64 && n <= 1000 {
            Ok(MinGroupSize(n as u32))
        } else {
            Err(InvalidMinGroupSize)
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }

    /// Whether a group of `respondents` is large enough to show aggregates for.
    pub fn allows(self, respondents: u32) -> bool {
        respondents >= self.0
    }
}

impl Default for MinGroupSize {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_is_three() {
        assert!(MinGroupSize::new(2).is_err());
        assert_eq!(MinGroupSize::new(3).unwrap().get(), 3);
        assert!(MinGroupSize::DEFAULT.allows(5));
        assert!(!MinGroupSize::DEFAULT.allows(4));
    }
}
