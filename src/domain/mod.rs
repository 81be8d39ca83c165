//! Types and rules with no I/O: load scores, schedules and DST, durations, k-anonymity,
//! the `/pulse` grammar, action ids, the neutral message model and the summary maths.

pub mod action;
pub mod command;
pub mod duration;
pub mod load;
pub mod message;
pub mod privacy;
pub mod schedule;
pub mod summary;

pub use load::LoadScore;
pub use privacy::MinGroupSize;
