//! The per-field decision at the heart of two-way sync: does an observed change move to the
//! other side, or is it unchanged, an echo of our own write, stale, or in conflict?
//!
//! What hubsync knows of each field of a linked pair lives in `record_state`, one entry per
//! side: the value, its logical time (when it was edited at its source), when it landed on
//! that side, and whether hubsync wrote it.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::config::{ConflictPolicy, Side};
use crate::rules::transform::{as_text, is_blank};
use crate::store::record_state::Known;

/// A change to one field, observed on `side`.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub side: Side,
    pub value: Value,
    /// The source's timestamp for the change.
    pub at: DateTime<Utc>,
}

/// What to do with an observed field change.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// The side already has this value; nothing moves.
    Unchanged,
    /// The value hubsync itself wrote, seen on its way back; nothing moves.
    Echo,
    /// Older than what this side already holds; dropped.
    Stale,
    /// The other side already holds this value; nothing moves.
    AlreadyThere,
    /// A new value: write it to the other side.
    Move,
    /// Both sides changed the field since they last agreed; the policy picked `winner`,
    /// whose value is written to `write_to`: the loser's side, and the winner's own side too
    /// when hubsync's write had already overwritten the winning value there.
    Conflict { winner: Side, write_to: Vec<Side> },
    /// Both sides changed it and the policy is `hold`: nothing moves until an operator picks.
    Hold,
}

/// Decides what `observed` means, given what is known of the field on its own side
/// (`mine`) and on the other (`theirs`). `theirs.value` must already be translated into the
/// observed side's terms (through the field's transform), so values compare like for like.
pub fn decide(
    policy: ConflictPolicy,
    observed: &Observed,
    mine: Option<&Known>,
    theirs: Option<&Known>,
) -> Decision {
    if let Some(mine) = mine {
        if same(&observed.value, &mine.value) {
            return if mine.by_hubsync { Decision::Echo } else { Decision::Unchanged };
        }
        if observed.at < mine.set_at {
            return overtaken(policy, observed, mine);
        }
    }
    match theirs {
        Some(theirs) if same(&observed.value, &theirs.value) => Decision::AlreadyThere,
        Some(theirs) if unsynced_edit(theirs, mine) => resolve(policy, observed, theirs, false),
        _ => Decision::Move,
    }
}

/// The change is older than what its side holds. If hubsync's own write overwrote it, the
/// two sides really did edit the field concurrently: a conflict, settled by the policy;
/// otherwise it is simply stale.
fn overtaken(policy: ConflictPolicy, observed: &Observed, mine: &Known) -> Decision {
    if !mine.by_hubsync || same(&observed.value, &mine.replaced) {
        return Decision::Stale;
    }
    if mine.earlier.iter().any(|value| same(&observed.value, value)) {
        return Decision::Echo;
    }
    let written = Known { by_hubsync: false, ..mine.clone() };
    match resolve(policy, observed, &written, true) {
        // the value we wrote already stands on both sides; the older edit loses, no write
        Decision::Conflict { winner, .. } if winner != observed.side => {
            Decision::Conflict { winner, write_to: Vec::new() }
        }
        other => other,
    }
}

/// The other side holds an edit that never reached this side.
fn unsynced_edit(theirs: &Known, mine: Option<&Known>) -> bool {
    !theirs.by_hubsync && mine.is_none_or(|mine| !same(&mine.value, &theirs.value))
}

/// Applies the conflict policy between the observed value and the other side's edit.
/// `overwritten` says the observed side no longer holds the observed value (our write
/// replaced it), so a winning observed value must be written back there too.
fn resolve(
    policy: ConflictPolicy,
    observed: &Observed,
    theirs: &Known,
    overwritten: bool,
) -> Decision {
    let (hubspot_value, external_value) = match observed.side {
        Side::Hubspot => (&observed.value, &theirs.value),
        Side::External => (&theirs.value, &observed.value),
    };
    let winner = match policy {
        ConflictPolicy::Hold => return Decision::Hold,
        ConflictPolicy::NewestWins if observed.at > theirs.value_at => observed.side,
        ConflictPolicy::NewestWins if observed.at < theirs.value_at => other(observed.side),
        ConflictPolicy::NewestWins | ConflictPolicy::PreferHubspot => Side::Hubspot,
        ConflictPolicy::PreferExternal => Side::External,
        ConflictPolicy::PreferHubspotUnlessBlank => {
            preferred(Side::Hubspot, hubspot_value, external_value)
        }
        ConflictPolicy::PreferExternalUnlessBlank => {
            preferred(Side::External, external_value, hubspot_value)
        }
    };
    let mut write_to = vec![other(winner)];
    if overwritten && winner == observed.side {
        write_to.insert(0, winner);
    }
    write_to.sort_by_key(|side| matches!(side, Side::External));
    Decision::Conflict { winner, write_to }
}

/// `side` wins unless its value is blank and the other's is not.
fn preferred(side: Side, own: &Value, others: &Value) -> Side {
    if is_blank(own) && !is_blank(others) { other(side) } else { side }
}

fn other(side: Side) -> Side {
    match side {
        Side::Hubspot => Side::External,
        Side::External => Side::Hubspot,
    }
}

/// Values are equal when they say the same thing: `null` and `""` are both blank, a number
/// equals its spelling (`1500`, `"1500"`, `1500.0`), and an instant equals its spelling
/// (`"2026-03-01"`, midnight in epoch milliseconds, `"2026-03-01T00:00:00.000Z"`).
pub fn same(a: &Value, b: &Value) -> bool {
    if is_blank(a) || is_blank(b) {
        return is_blank(a) && is_blank(b);
    }
    let (a, b) = (as_text(a), as_text(b));
    if a == b {
        return true;
    }
    if let (Ok(x), Ok(y)) = (a.trim().parse::<f64>(), b.trim().parse::<f64>()) {
        return x == y;
    }
    matches!((instant(&a), instant(&b)), (Some(x), Some(y)) if x == y)
}

/// An ISO date or date-time, or epoch milliseconds (at least 11 digits, so plain numbers
/// never pass for instants).
fn instant(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if text.len() >= 11 && text.bytes().all(|b| b.is_ascii_digit()) {
        return DateTime::from_timestamp_millis(text.parse().ok()?);
    }
    if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(date.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    crate::connector::parse_time(text)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    fn t(second: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, second).unwrap()
    }

    fn seen(side: Side, value: Value, at: u32) -> Observed {
        Observed { side, value, at: t(at) }
    }

    fn known(value: Value, value_at: u32, set_at: u32, by_hubsync: bool) -> Known {
        Known {
            value,
            value_at: t(value_at),
            set_at: t(set_at),
            by_hubsync,
            replaced: json!("before"),
            earlier: Vec::new(),
        }
    }

    const NEWEST: ConflictPolicy = ConflictPolicy::NewestWins;

    #[test]
    fn a_new_value_on_a_field_nobody_else_touched_moves() {
        let observed = seen(Side::Hubspot, json!("Ann"), 10);
        assert_eq!(decide(NEWEST, &observed, None, None), Decision::Move);
        let mine = known(json!("Anne"), 1, 1, false);
        let theirs = known(json!("Anne"), 1, 2, true);
        assert_eq!(decide(NEWEST, &observed, Some(&mine), Some(&theirs)), Decision::Move);
    }

    #[test]
    fn the_value_hubsync_wrote_coming_back_is_an_echo() {
        let mine = known(json!("Ann"), 5, 20, true);
        let observed = seen(Side::External, json!("Ann"), 20);
        assert_eq!(decide(NEWEST, &observed, Some(&mine), None), Decision::Echo);
    }

    #[test]
    fn a_read_older_than_our_write_showing_the_replaced_value_is_stale_not_a_conflict() {
        let mine = Known { replaced: json!(null), ..known(json!("CTO"), 5, 20, true) };
        let observed = seen(Side::Hubspot, json!(""), 10);
        assert_eq!(
            decide(ConflictPolicy::PreferHubspot, &observed, Some(&mine), None),
            Decision::Stale
        );
    }

    #[test]
    fn the_late_echo_of_an_earlier_write_is_an_echo_not_a_conflict() {
        // we wrote "MM" at 20, then "CTO" at 30 (replacing "MM"), then "AE" at 40; HubSpot's
        // notice of the "MM" write arrives only now
        let earlier = vec![json!("CTO"), json!("MM")];
        let mine = Known { replaced: json!("CTO"), earlier, ..known(json!("AE"), 35, 40, true) };
        let observed = seen(Side::Hubspot, json!("MM"), 20);
        assert_eq!(decide(NEWEST, &observed, Some(&mine), None), Decision::Echo);
        let edit = seen(Side::Hubspot, json!("Buyer"), 20);
        assert_ne!(decide(NEWEST, &edit, Some(&mine), None), Decision::Echo);
    }

    #[test]
    fn numbers_and_instants_are_the_same_whatever_their_spelling() {
        assert!(same(&json!(1500.0), &json!("1500")));
        assert!(same(&json!("1772323200000"), &json!("2026-03-01")));
        assert!(same(&json!("2026-03-01T00:00:00.000Z"), &json!("1772323200000")));
        assert!(!same(&json!("2026-03-02"), &json!("1772323200000")));
        assert!(!same(&json!("12"), &json!("")));
    }

    #[test]
    fn a_value_the_side_already_has_is_unchanged_whatever_its_spelling() {
        let mine = known(json!(1500), 5, 5, false);
        let observed = seen(Side::External, json!("1500"), 9);
        assert_eq!(decide(NEWEST, &observed, Some(&mine), None), Decision::Unchanged);
        let blank = known(json!(null), 5, 5, false);
        assert_eq!(
            decide(NEWEST, &seen(Side::Hubspot, json!(""), 9), Some(&blank), None),
            Decision::Unchanged
        );
    }

    #[test]
    fn a_change_older_than_the_sides_own_newer_edit_is_stale() {
        let mine = known(json!("new"), 30, 30, false);
        let observed = seen(Side::Hubspot, json!("old"), 20);
        assert_eq!(decide(NEWEST, &observed, Some(&mine), None), Decision::Stale);
    }

    #[test]
    fn an_edit_overwritten_by_our_write_from_an_older_value_wins_back_under_newest_wins() {
        // HubSpot edited at 10; we wrote it to Salesforce at 30; Salesforce had been edited
        // at 20 in between. The Salesforce edit is newer: both sides must end with it.
        let mine = known(json!("from hubspot"), 10, 30, true);
        let theirs = known(json!("from hubspot"), 10, 10, false);
        let observed = seen(Side::External, json!("sf edit"), 20);
        let decision = decide(NEWEST, &observed, Some(&mine), Some(&theirs));
        let write_to = vec![Side::Hubspot, Side::External];
        assert_eq!(decision, Decision::Conflict { winner: Side::External, write_to });
    }

    #[test]
    fn an_edit_overwritten_by_a_newer_value_loses_its_conflict_and_nothing_is_written() {
        let lost = Decision::Conflict { winner: Side::Hubspot, write_to: Vec::new() };
        let mine = known(json!("from hubspot"), 25, 30, true);
        let observed = seen(Side::External, json!("sf edit"), 20);
        assert_eq!(decide(NEWEST, &observed, Some(&mine), None), lost);
        let prefer = ConflictPolicy::PreferHubspot;
        let older_hubspot = known(json!("from hubspot"), 10, 30, true);
        assert_eq!(decide(prefer, &observed, Some(&older_hubspot), None), lost);
    }

    fn both_edited(policy: ConflictPolicy, hubspot: Value, external: Value) -> Decision {
        // Salesforce holds an edit from t=15 that has not reached HubSpot; HubSpot edits at t=20.
        let mine = known(json!("agreed"), 1, 1, false);
        let theirs = known(external, 15, 15, false);
        decide(policy, &seen(Side::Hubspot, hubspot, 20), Some(&mine), Some(&theirs))
    }

    #[test]
    fn same_field_edits_on_both_sides_follow_the_policy() {
        let conflict = |winner: Side| Decision::Conflict { winner, write_to: vec![other(winner)] };
        assert_eq!(both_edited(NEWEST, json!("hs"), json!("sf")), conflict(Side::Hubspot));
        let prefer_sf = ConflictPolicy::PreferExternal;
        assert_eq!(both_edited(prefer_sf, json!("hs"), json!("sf")), conflict(Side::External));
        let prefer_hs = ConflictPolicy::PreferHubspot;
        assert_eq!(both_edited(prefer_hs, json!("hs"), json!("sf")), conflict(Side::Hubspot));
        assert_eq!(both_edited(ConflictPolicy::Hold, json!("hs"), json!("sf")), Decision::Hold);
    }

    #[test]
    fn unless_blank_policies_let_the_other_side_win_over_a_blank() {
        let policy = ConflictPolicy::PreferHubspotUnlessBlank;
        let decision = both_edited(policy, json!(""), json!("sf"));
        assert_eq!(
            decision,
            Decision::Conflict { winner: Side::External, write_to: vec![Side::Hubspot] }
        );
        let policy = ConflictPolicy::PreferExternalUnlessBlank;
        let decision = both_edited(policy, json!("hs"), json!(null));
        assert_eq!(
            decision,
            Decision::Conflict { winner: Side::Hubspot, write_to: vec![Side::External] }
        );
    }

    #[test]
    fn newest_wins_breaks_an_exact_tie_towards_hubspot_every_time() {
        let mine = known(json!("agreed"), 1, 1, false);
        let theirs = known(json!("sf"), 20, 20, false);
        let observed = seen(Side::Hubspot, json!("hs"), 20);
        let decision = decide(NEWEST, &observed, Some(&mine), Some(&theirs));
        assert_eq!(
            decision,
            Decision::Conflict { winner: Side::Hubspot, write_to: vec![Side::External] }
        );
    }

    #[test]
    fn both_sides_reaching_the_same_value_is_no_conflict_and_no_write() {
        let mine = known(json!("agreed"), 1, 1, false);
        let theirs = known(json!("same"), 15, 15, false);
        let observed = seen(Side::Hubspot, json!("same"), 20);
        assert_eq!(decide(NEWEST, &observed, Some(&mine), Some(&theirs)), Decision::AlreadyThere);
    }
}
