//! The weekly summary: turns one round's facts, gathered from the store by the caller, into what
//! the team channel sees (response rate, load distribution, mean and trend, shuffled notes, asks
//! and offers, team-level signals) and renders it as plain text. Pure: no I/O, no clock.
//!
//! Privacy rule 3: when fewer than `min_group` members answered, the summary holds the response
//! count and nothing else: no mean, distribution, trend, notes, asks, offers or signals.

use std::cmp::Ordering;

use chrono::TimeDelta;
use rand::seq::SliceRandom;

use crate::domain::{LoadScore, MinGroupSize};

/// What happened in the round being summarized.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoundFacts {
    /// Members prompted this round.
    pub members: u32,
    /// One per answer; the response count is `scores.len()`.
    pub scores: Vec<LoadScore>,
    pub notes: Vec<String>,
    pub asks_made: u32,
    pub offers_given: u32,
    /// One per ask that got an offer: from the ask to its first offer.
    pub first_offer_delays: Vec<TimeDelta>,
    pub asks_without_offer: u32,
}

/// A previously published round, as history for trends and signals (oldest first).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PastRound {
    /// `None` when that round's details were suppressed.
    pub mean: Option<f64>,
    pub responses: u32,
    pub members: u32,
}

/// A team-level burnout signal. Never about an individual.
#[derive(Debug, Clone, PartialEq)]
pub enum Signal {
    /// This round's mean is above the previous round's, which is above the one before it. The
    /// last two past rounds must both have a mean (neither suppressed); equal means don't count.
    LoadRising,
    /// At least 40 % of this round's answers were 4 or 5; `percent` is that share, rounded.
    HighStrainShare { percent: u32 },
    /// This round's response rate (`percent`, rounded) is at least 30 points below `average`, the
    /// rounded mean rate of the up-to-4 most recent past rounds. Past rounds without members are
    /// skipped, at least 2 must remain, and this round must have members.
    ResponseRateDrop { percent: u32, average: u32 },
    /// This many asks for help got no offer (fires when above 0).
    AsksWithoutOffer(u32),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub responses: u32,
    pub members: u32,
    /// `None`: fewer than the minimum group answered, so everything else stays private.
    pub details: Option<Details>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Details {
    /// Answer counts for loads 1 to 5.
    pub distribution: [u32; 5],
    pub mean: f64,
    /// Up to 6 most recent published means including this one, oldest first.
    pub trend: Vec<f64>,
    /// Shuffled, so their order says nothing about who answered when.
    pub notes: Vec<String>,
    pub asks_made: u32,
    pub offers_given: u32,
    pub median_first_offer: Option<TimeDelta>,
    pub signals: Vec<Signal>,
}

const TREND_POINTS: usize = 6;
const STRAIN_SHARE_PERCENT: u32 = 40;
const RATE_DROP_POINTS: u32 = 30;
const RATE_WINDOW: usize = 4;
const SPARKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Computes the summary of a round; `history` holds the previously published rounds, oldest first.
pub fn summarize(
    facts: RoundFacts,
    history: &[PastRound],
    min_group: MinGroupSize,
    rng: &mut impl rand::Rng,
) -> Summary {
    let responses = u32::try_from(facts.scores.len()).unwrap_or(u32::MAX);
    let members = facts.members;
    // The floor of 3 already keeps 0 responses out; saying so guards the division below.
    let shown = min_group.allows(responses) && responses > 0;
    let details = shown.then(|| details(facts, responses, history, rng));
    Summary {
        responses,
        members,
        details,
    }
}

fn details(
    facts: RoundFacts,
    responses: u32,
    history: &[PastRound],
    rng: &mut impl rand::Rng,
) -> Details {
    let mut distribution = [0u32; 5];
    for score in &facts.scores {
        let index = usize::from(score.value()).saturating_sub(1);
        if let Some(count) = distribution.get_mut(index) {
            *count += 1;
        }
    }
    let total: f64 = facts.scores.iter().map(|s| f64::from(s.value())).sum();
    let mean = total / f64::from(responses);
    let mut trend: Vec<f64> = history.iter().filter_map(|round| round.mean).collect();
    trend.push(mean);
    trend.drain(..trend.len().saturating_sub(TREND_POINTS));
    let mut notes = facts.notes;
    notes.shuffle(rng);
    let this_round = PastRound {
        mean: Some(mean),
        responses,
        members: facts.members,
    };
    let strained = distribution[3] + distribution[4];
    let mut signals = load_and_rate_signals(this_round, strained, history);
    if facts.asks_without_offer > 0 {
        signals.push(Signal::AsksWithoutOffer(facts.asks_without_offer));
    }
    Details {
        distribution,
        mean,
        trend,
        notes,
        asks_made: facts.asks_made,
        offers_given: facts.offers_given,
        median_first_offer: median(facts.first_offer_delays),
        signals,
    }
}

/// The signals read from the answers and the history; each rule is documented on [`Signal`].
fn load_and_rate_signals(this: PastRound, strained: u32, history: &[PastRound]) -> Vec<Signal> {
    let mut signals = Vec::new();
    if let [.., before, previous] = history
        && let (Some(before), Some(previous), Some(mean)) = (before.mean, previous.mean, this.mean)
        && mean > previous
        && previous > before
    {
        signals.push(Signal::LoadRising);
    }
    let share = u64::from(strained) * 100;
    if share >= u64::from(STRAIN_SHARE_PERCENT) * u64::from(this.responses) {
        let percent = percent(strained, this.responses).unwrap_or(100);
        signals.push(Signal::HighStrainShare { percent });
    }
    let recent = &history[history.len().saturating_sub(RATE_WINDOW)..];
    let past_rates: Vec<f64> = recent
        .iter()
        .filter(|round| round.members > 0)
        .map(|round| f64::from(round.responses) * 100.0 / f64::from(round.members))
        .collect();
    if let Some(percent) = percent(this.responses, this.members)
        && past_rates.len() >= 2
    {
        let average = (past_rates.iter().sum::<f64>() / past_rates.len() as f64).round() as u32;
        if average.saturating_sub(percent) >= RATE_DROP_POINTS {
            signals.push(Signal::ResponseRateDrop { percent, average });
        }
    }
    signals
}

/// `part` as a rounded percentage of `whole`; `None` when `whole` is 0.
fn percent(part: u32, whole: u32) -> Option<u32> {
    (whole > 0).then(|| (f64::from(part) * 100.0 / f64::from(whole)).round() as u32)
}

/// The middle value; for an even count, the mean of the two middle values.
fn median(mut values: Vec<TimeDelta>) -> Option<TimeDelta> {
    values.sort();
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        return values.get(mid).copied();
    }
    let (lower, upper) = (values.get(mid.checked_sub(1)?)?, values.get(mid)?);
    Some(*lower / 2 + *upper / 2)
}

/// The summary as plain text: `heading`, then one line per fact.
pub fn render_text(summary: &Summary, min_group: MinGroupSize, heading: &str) -> String {
    let (responses, members) = (summary.responses, summary.members);
    let Some(details) = &summary.details else {
        let min = min_group.get();
        let private = format!("Fewer than {min} people answered, so the details stay private");
        return format!("{heading}\nResponses: {responses}/{members}\n{private} this round.");
    };
    let rate = percent(responses, members).map_or(String::new(), |p| format!(" ({p}%)"));
    let load: Vec<String> = LoadScore::ALL
        .iter()
        .zip(details.distribution)
        .map(|(score, count)| format!("{} {count}", score.label()))
        .collect();
    let mut lines = vec![
        heading.to_owned(),
        format!("Responses: {responses}/{members}{rate}"),
        format!("Load: {}", load.join(" · ")),
        mean_line(details),
    ];
    if !details.notes.is_empty() {
        lines.push("Notes (shuffled, undated):".to_owned());
        // A note stays on its own line, whatever was stored.
        let one_line = |note: &String| format!("  • {}", note.replace(char::is_control, " "));
        lines.extend(details.notes.iter().map(one_line));
    }
    let (asks, offers) = (details.asks_made, details.offers_given);
    let median = details.median_first_offer.map(compact);
    let median = median.map_or(String::new(), |m| {
        format!(" · median time to first offer: {m}")
    });
    lines.push(format!("Asks for help: {asks} · offers: {offers}{median}"));
    if !details.signals.is_empty() {
        lines.push("Signals:".to_owned());
        let bullet = |signal: &Signal| format!("  • {}", signal_text(signal));
        lines.extend(details.signals.iter().map(bullet));
    }
    lines.join("\n")
}

/// `Mean load: 2.6 / 5 · trend 2.1 → 2.4 → 2.6 (rising) ▃▃▄`. The sparkline spans the whole
/// 1–5 scale, so a small change looks small.
fn mean_line(details: &Details) -> String {
    let mean = format!("Mean load: {:.1} / 5", details.mean);
    let [.., previous, last] = details.trend[..] else {
        return mean;
    };
    let tenths = |mean: f64| (mean * 10.0).round();
    let direction = match tenths(last).partial_cmp(&tenths(previous)) {
        Some(Ordering::Greater) => "rising",
        Some(Ordering::Less) => "falling",
        _ => "steady",
    };
    let points: Vec<String> = details.trend.iter().map(|m| format!("{m:.1}")).collect();
    let spark = |m: &f64| SPARKS[(((m.clamp(1.0, 5.0) - 1.0) / 4.0 * 7.0).round() as usize).min(7)];
    let sparkline: String = details.trend.iter().map(spark).collect();
    let points = points.join(" → ");
    format!("{mean} · trend {points} ({direction}) {sparkline}")
}

fn signal_text(signal: &Signal) -> String {
    match signal {
        Signal::LoadRising => "Load has risen three rounds in a row.".to_owned(),
        Signal::HighStrainShare { percent } => {
            format!("{percent}% of answers were Stretched or Overwhelmed.")
        }
        Signal::ResponseRateDrop { percent, average } => {
            let points = average.saturating_sub(*percent);
            format!(
                "Response rate {percent}% is {points} points below the recent average of {average}%."
            )
        }
        Signal::AsksWithoutOffer(1) => "1 ask for help got no offer yet.".to_owned(),
        Signal::AsksWithoutOffer(n) => format!("{n} asks for help got no offer yet."),
    }
}

/// `<1m`, `45m`, `3h 20m`, `2d 4h`: the two largest units, truncated to whole minutes.
fn compact(duration: TimeDelta) -> String {
    let minutes = duration.num_minutes().max(0);
    match (minutes / 1440, minutes / 60 % 24, minutes % 60) {
        (0, 0, 0) => "<1m".to_owned(),
        (0, 0, m) => format!("{m}m"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::{SeedableRng, rngs::StdRng};

    fn facts(members: u32, scores: &[i64]) -> RoundFacts {
        let scores = scores.iter().filter_map(|&s| LoadScore::try_from(s).ok());
        RoundFacts {
            members,
            scores: scores.collect(),
            ..RoundFacts::default()
        }
    }

    const fn past(mean: Option<f64>, responses: u32, members: u32) -> PastRound {
        PastRound {
            mean,
            responses,
            members,
        }
    }

    fn min(n: i64) -> MinGroupSize {
        MinGroupSize::new(n).expect("a valid minimum")
    }

    /// Summarizes with a fixed seed and renders with the heading `Weekly pulse`.
    fn run(min_group: i64, facts: RoundFacts, history: &[PastRound]) -> (Summary, String) {
        let mut rng = StdRng::seed_from_u64(7);
        let summary = summarize(facts, history, min(min_group), &mut rng);
        let text = render_text(&summary, min(min_group), "Weekly pulse");
        (summary, text)
    }

    fn signals(facts: RoundFacts, history: &[PastRound]) -> Vec<Signal> {
        let details = run(3, facts, history).0.details;
        details.map(|d| d.signals).unwrap_or_default()
    }

    fn busy_round(scores: &[i64]) -> RoundFacts {
        RoundFacts {
            notes: vec!["too many meetings".to_owned()],
            asks_made: 1,
            offers_given: 1,
            first_offer_delays: vec![TimeDelta::minutes(12)],
            asks_without_offer: 1,
            ..facts(6, scores)
        }
    }

    const RISING: [PastRound; 2] = [past(Some(2.1), 5, 6), past(Some(2.4), 5, 6)];

    #[test]
    fn four_answers_with_a_minimum_of_five_show_only_the_count() {
        let (summary, text) = run(5, busy_round(&[1, 2, 2, 3]), &RISING);
        let counts = (summary.responses, summary.members);
        assert_eq!((counts, summary.details), ((4, 6), None));
        let private = "Fewer than 5 people answered, so the details stay private this round.";
        assert_eq!(text, format!("Weekly pulse\nResponses: 4/6\n{private}"));
        assert!(!text.contains('2') && !text.contains('0'), "mean 2.0");
        assert!(!text.contains("meetings") && !text.contains("Load:") && !text.contains("Asks"));
    }

    #[test]
    fn five_answers_with_a_minimum_of_five_show_the_details() {
        let (_, text) = run(5, busy_round(&[1, 2, 3, 3, 4]), &RISING);
        let expected = "Weekly pulse
Responses: 5/6 (83%)
Load: Light 1 · Comfortable 1 · Full 2 · Stretched 1 · Overwhelmed 0
Mean load: 2.6 / 5 · trend 2.1 → 2.4 → 2.6 (rising) ▃▃▄
Notes (shuffled, undated):
  • too many meetings
Asks for help: 1 · offers: 1 · median time to first offer: 12m
Signals:
  • Load has risen three rounds in a row.
  • 1 ask for help got no offer yet.";
        assert_eq!(text, expected);
    }

    #[test]
    fn load_rising_needs_two_published_rounds_below_and_strictly_rising() {
        let rises = |history: &[PastRound], scores: &[i64]| {
            signals(facts(6, scores), history).contains(&Signal::LoadRising)
        };
        assert!(rises(&RISING, &[3, 2, 3]), "2.7 > 2.4 > 2.1");
        assert!(!rises(&RISING, &[3, 2, 2, 3, 2]), "2.4 is not above 2.4");
        assert!(!rises(&[RISING[1], RISING[1]], &[3, 3, 3]), "flat before");
        let suppressed = [past(None, 2, 6), RISING[1]];
        assert!(
            !rises(&suppressed, &[3, 3, 3]),
            "a suppressed round breaks the run"
        );
        assert!(!rises(&RISING[1..], &[3, 3, 3]), "one past round");
    }

    #[test]
    fn high_strain_share_fires_at_forty_percent() {
        let forty = signals(facts(6, &[5, 4, 1, 1, 1]), &[]);
        assert_eq!(forty, vec![Signal::HighStrainShare { percent: 40 }]);
        assert_eq!(signals(facts(6, &[5, 4, 1, 1, 1, 1]), &[]), vec![], "33%");
        let (_, text) = run(3, facts(6, &[5, 4, 1, 1, 1]), &[]);
        assert!(text.ends_with("\n  • 40% of answers were Stretched or Overwhelmed."));
    }

    #[test]
    fn response_rate_drop_fires_thirty_points_below_the_recent_average() {
        let answered = |n: usize| facts(100, &vec![2; n]);
        let steady = [past(Some(2.0), 80, 100); 4];
        let (percent, average) = (50, 80);
        let drop = Signal::ResponseRateDrop { percent, average };
        assert_eq!(signals(answered(50), &steady[..2]), vec![drop.clone()]);
        assert_eq!(signals(answered(51), &steady[..2]), [], "29 points below");
        assert_eq!(signals(answered(50), &steady[..1]), [], "one past round");
        let low_fifth = [&[past(Some(2.0), 10, 100)], &steady[..]].concat();
        assert_eq!(
            signals(answered(50), &low_fifth),
            [drop],
            "the last 4 count"
        );
        let (_, text) = run(3, answered(40), &steady);
        let line = "Response rate 40% is 40 points below the recent average of 80%.";
        assert!(text.ends_with(line), "{text}");
    }

    #[test]
    fn asks_without_an_offer_are_counted_when_there_are_any() {
        assert_eq!(signals(facts(6, &[1, 1, 1]), &[]), vec![]);
        let two = RoundFacts {
            asks_without_offer: 2,
            ..facts(6, &[1, 1, 1])
        };
        let (_, text) = run(3, two, &[]);
        assert!(text.ends_with("Signals:\n  • 2 asks for help got no offer yet."));
    }

    #[test]
    fn median_time_to_first_offer_is_the_middle_or_the_mean_of_the_two_middles() {
        let minutes = |m: &[i64]| m.iter().map(|&m| TimeDelta::minutes(m)).collect();
        assert_eq!(median(minutes(&[30, 10, 20])), Some(TimeDelta::minutes(20)));
        let even = median(minutes(&[10, 40, 20, 30]));
        assert_eq!(even, Some(TimeDelta::minutes(25)));
        assert_eq!(median(vec![]), None);
        let shown = [0, 45, 200, 180, 3120, 2880].map(|m| compact(TimeDelta::minutes(m)));
        assert_eq!(shown.join(","), "<1m,45m,3h 20m,3h,2d 4h,2d");
    }

    #[test]
    fn notes_are_shuffled_with_the_given_rng_but_none_is_lost() {
        let notes: Vec<String> = (0..10).map(|i| format!("note {i}")).collect();
        let round = RoundFacts {
            notes: notes.clone(),
            ..facts(12, &[2; 10])
        };
        let details = run(3, round, &[]).0.details;
        let shuffled = details.map(|d| d.notes).unwrap_or_default();
        assert_ne!(shuffled, notes);
        let mut sorted = shuffled.clone();
        sorted.sort();
        assert_eq!(sorted, notes);
    }

    #[test]
    fn empty_history_gives_a_one_point_trend_and_no_history_signals() {
        let (summary, text) = run(3, facts(6, &[3, 3, 3]), &[]);
        let details = summary.details.expect("three answers, minimum three");
        assert_eq!((details.trend, details.signals), (vec![3.0], vec![]));
        let one_point = text.contains("\nMean load: 3.0 / 5\n") && !text.contains("trend");
        assert!(one_point, "{text}");
    }

    #[test]
    fn zero_members_never_divides_by_zero() {
        let empty_history = [past(Some(2.0), 0, 0), past(None, 0, 0)];
        let (summary, text) = run(3, facts(0, &[]), &empty_history);
        assert_eq!(
            (summary.details, text.lines().nth(1)),
            (None, Some("Responses: 0/0"))
        );
        let (_, text) = run(3, facts(0, &[1, 2, 3]), &[past(Some(2.0), 3, 4); 2]);
        assert!(text.contains("Responses: 3/0\nLoad:") && !text.contains("Response rate"));
    }

    proptest! {
        #[test]
        fn below_the_minimum_only_the_count_is_ever_shown(
            scores in prop::collection::vec(1i64..=5, 0..5),
            members in 0u32..10,
            notes in prop::collection::vec(".*", 0..5),
        ) {
            let round = RoundFacts { notes, asks_without_offer: 3, ..facts(members, &scores) };
            let (summary, text) = run(5, round, &RISING);
            prop_assert!(summary.details.is_none());
            prop_assert_eq!(text.lines().count(), 3);
        }
    }
}
