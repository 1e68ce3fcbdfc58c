//! Stress mode's error counts (`--continue-on-error`): each failed
//! operation is counted in a group named by a stable key (the error's kind
//! and its message with numbers, ids and addresses masked, or the group the
//! test named with [`Error::with_group`](crate::Error::with_group)). Groups
//! are bounded: past [`MAX_ERROR_GROUPS`] distinct keys the rest are
//! counted in one group, [`OTHER_GROUP`], so an error path that makes a new
//! message each time cannot flood memory.
//!
//! Each instance counts into its own [`ErrorGroups`] (behind a mutex of its
//! own, taken on the error path only and by the status tick once an
//! interval); the success path never touches them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::LatencySummary;
use crate::error::Error;

/// Distinct groups kept per instance, and in a merge.
pub(crate) const MAX_ERROR_GROUPS: usize = 32;
/// The key of the group that counts every error past [`MAX_ERROR_GROUPS`].
pub(crate) const OTHER_GROUP: &str = "other (more distinct errors than groups kept)";
/// A key is cut to this many characters.
const MAX_KEY_CHARS: usize = 200;
/// A first message's chain keeps this many causes at most.
const MAX_CHAIN: usize = 8;

/// One group of errors.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ErrorGroup {
    /// The stable key: `Kind: masked message`, or the test's own group name.
    pub(crate) key: String,
    /// Errors counted in the group.
    pub(crate) count: u64,
    /// The first error's full message and its causes, outermost first.
    pub(crate) first_chain: Vec<String>,
}

/// Errors by group, in the order each group was first seen.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ErrorGroups {
    groups: Vec<ErrorGroup>,
}

impl ErrorGroups {
    /// Counts `error`.
    pub(crate) fn record(&mut self, error: &Error) {
        let key = error_key(error);
        // Computed only for a new group: the error path of a known group
        // only compares keys.
        self.add(key, 1, || {
            error.chain().into_iter().take(MAX_CHAIN).collect()
        });
    }

    fn add(&mut self, key: String, count: u64, first_chain: impl FnOnce() -> Vec<String>) {
        if let Some(group) = self.groups.iter_mut().find(|group| group.key == key) {
            group.count += count;
            return;
        }
        let key = if self.groups.len() >= MAX_ERROR_GROUPS - 1 && key != OTHER_GROUP {
            // The last slot is the "other" group.
            if let Some(other) = self
                .groups
                .iter_mut()
                .find(|group| group.key == OTHER_GROUP)
            {
                other.count += count;
                return;
            }
            OTHER_GROUP.to_owned()
        } else {
            key
        };
        self.groups.push(ErrorGroup {
            key,
            count,
            first_chain: first_chain(),
        });
    }

    /// Adds every group of `other` (the result stays bounded).
    pub(crate) fn merge(&mut self, other: &ErrorGroups) {
        for group in &other.groups {
            self.add(group.key.clone(), group.count, || group.first_chain.clone());
        }
    }

    /// Errors counted in every group.
    pub(crate) fn total(&self) -> u64 {
        self.groups.iter().map(|group| group.count).sum()
    }

    /// The groups, largest first (ties in the order first seen).
    pub(crate) fn by_count(&self) -> Vec<&ErrorGroup> {
        let mut groups: Vec<&ErrorGroup> = self.groups.iter().collect();
        groups.sort_by_key(|group| std::cmp::Reverse(group.count));
        groups
    }

    /// Each group's count since `earlier` (an earlier snapshot of the same
    /// counts), groups without new errors left out.
    pub(crate) fn since(&self, earlier: &ErrorGroups) -> BTreeMap<String, u64> {
        let before: BTreeMap<&str, u64> = earlier
            .groups
            .iter()
            .map(|group| (group.key.as_str(), group.count))
            .collect();
        self.groups
            .iter()
            .filter_map(|group| {
                let new = group
                    .count
                    .saturating_sub(before.get(group.key.as_str()).copied().unwrap_or(0));
                (new > 0).then(|| (group.key.clone(), new))
            })
            .collect()
    }
}

/// Stress mode's figures of one timed phase.
#[derive(Clone, Debug)]
pub(crate) struct ErrorResults {
    /// The failed operations by group.
    pub(crate) groups: ErrorGroups,
    /// Failed operations.
    pub(crate) errors: u64,
    /// Operations attempted: completed and failed.
    pub(crate) attempted: u64,
    /// `errors / attempted` (0 without operations).
    pub(crate) rate: f64,
    /// With `--latency`: the latency of the failed operations.
    pub(crate) latency: Option<LatencySummary>,
    /// `--max-error-rate`, if this phase is judged by it (the timed run).
    pub(crate) limit: Option<f64>,
}

impl ErrorResults {
    /// The figures of a phase that completed `completed` operations and
    /// failed the ones in `groups`; `limit` if the phase is judged.
    pub(crate) fn new(
        groups: ErrorGroups,
        completed: u64,
        latency: Option<LatencySummary>,
        limit: Option<f64>,
    ) -> Self {
        let errors = groups.total();
        let attempted = completed + errors;
        Self {
            rate: if attempted == 0 {
                0.0
            } else {
                errors as f64 / attempted as f64
            },
            groups,
            errors,
            attempted,
            latency,
            limit,
        }
    }

    /// Whether the error rate is within the limit (or not judged).
    pub(crate) fn within_limit(&self) -> bool {
        self.limit.is_none_or(|limit| self.rate <= limit)
    }

    /// A group's share of the attempted operations.
    pub(crate) fn share(&self, group: &ErrorGroup) -> f64 {
        if self.attempted == 0 {
            0.0
        } else {
            group.count as f64 / self.attempted as f64
        }
    }
}

/// The group key of `error`: the group its test named, or its kind and
/// its whole message (causes included) with numbers masked.
pub(crate) fn error_key(error: &Error) -> String {
    if let Some(group) = error.group() {
        return truncate(group.to_owned());
    }
    let message = error.chain().join(": ");
    truncate(format!("{:?}: {}", error.kind(), mask_message(&message)))
}

fn truncate(mut key: String) -> String {
    if let Some((index, _)) = key.char_indices().nth(MAX_KEY_CHARS) {
        key.truncate(index);
        key.push('…');
    }
    key
}

/// `message` with every word that holds a digit (a number, an id, an
/// address, a duration such as `31ms`) replaced by `<n>`; punctuation
/// around it kept. `timed out after 31 ms` and `timed out after 29 ms`
/// give the same text.
pub(crate) fn mask_message(message: &str) -> String {
    // Words are split at whitespace and at delimiters that rarely belong
    // to a number; `.`, `:` and `-` stay inside (addresses, uuids, floats).
    const DELIMITERS: &[char] = &[
        '(', ')', '[', ']', '{', '}', '<', '>', ',', ';', '=', '"', '\'', '/', '#', '|', '`',
    ];
    let mut masked = String::with_capacity(message.len());
    let mut word = String::new();
    let flush = |word: &mut String, masked: &mut String| {
        if word.is_empty() {
            return;
        }
        if word.chars().any(|c| c.is_ascii_digit()) {
            // Keep trailing punctuation (`31.` ends a sentence).
            let core = word.trim_end_matches(['.', ':', '-']);
            let tail = &word[core.len()..];
            masked.push_str("<n>");
            masked.push_str(tail);
        } else {
            masked.push_str(word);
        }
        word.clear();
    };
    for c in message.chars() {
        if c.is_whitespace() || DELIMITERS.contains(&c) {
            flush(&mut word, &mut masked);
            masked.push(c);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut masked);
    masked
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn numbers_ids_and_addresses_are_masked() {
        assert_eq!(
            mask_message("timed out after 31 ms"),
            mask_message("timed out after 29 ms")
        );
        assert_eq!(
            mask_message("timed out after 31 ms"),
            "timed out after <n> ms"
        );
        assert_eq!(
            mask_message("connect to 127.0.0.1:8080 failed (os error 111)."),
            "connect to <n> failed (os error <n>)."
        );
        assert_eq!(
            mask_message("blob 3f2a9c1e-0000-4b7a-9d2e-1a2b3c4d5e6f not found, took 12ms"),
            "blob <n> not found, took <n>"
        );
        assert_eq!(mask_message("status=503"), "status=<n>");
        assert_eq!(mask_message("no digits here"), "no digits here");
    }

    #[test]
    fn keys_use_the_kind_or_the_named_group() {
        let timeout = Error::msg("timed out after 31 ms");
        assert_eq!(error_key(&timeout), "Test: timed out after <n> ms");
        let io = Error::new(ErrorKind::Io, "reset");
        assert_eq!(error_key(&io), "Io: reset");
        let named = Error::msg("HTTP 503 from 10.0.0.1").with_group("HTTP 503");
        assert_eq!(error_key(&named), "HTTP 503");
    }

    #[test]
    fn groups_count_and_keep_the_first_message() {
        let mut groups = ErrorGroups::default();
        groups.record(&Error::msg("timed out after 31 ms"));
        groups.record(&Error::msg("timed out after 29 ms"));
        groups.record(&Error::msg("refused"));
        assert_eq!(groups.total(), 3);
        let sorted = groups.by_count();
        assert_eq!(sorted[0].count, 2);
        assert_eq!(sorted[0].first_chain, vec!["timed out after 31 ms"]);
        assert_eq!(sorted[1].key, "Test: refused");
    }

    #[test]
    fn groups_are_bounded_and_nothing_is_lost() {
        let mut groups = ErrorGroups::default();
        for index in 0..1000 {
            // A new key each time: letters, not digits, so not masked.
            let word: String = format!("{index:x}")
                .chars()
                .map(|c| (b'g' + c.to_digit(16).unwrap() as u8) as char)
                .collect();
            groups.record(&Error::msg(format!("bad {word}")));
        }
        assert_eq!(groups.groups.len(), MAX_ERROR_GROUPS);
        assert_eq!(groups.total(), 1000);
        assert_eq!(groups.groups.last().unwrap().key, OTHER_GROUP);
        let mut merged = ErrorGroups::default();
        merged.merge(&groups);
        merged.merge(&groups);
        assert_eq!(merged.total(), 2000);
        assert_eq!(merged.groups.len(), MAX_ERROR_GROUPS);
    }

    #[test]
    fn the_rate_is_judged_against_the_limit() {
        let mut groups = ErrorGroups::default();
        for _ in 0..10 {
            groups.record(&Error::msg("injected"));
        }
        // 10 failed of 1000 attempted: exactly 1 %.
        let results = |limit| ErrorResults::new(groups.clone(), 990, None, limit);
        assert_eq!(results(None).rate, 0.01);
        assert_eq!(results(None).attempted, 1000);
        assert!(results(Some(0.01)).within_limit());
        assert!(!results(Some(0.009)).within_limit());
        assert!(!results(Some(0.0)).within_limit());
        assert!(results(None).within_limit(), "the warm-up is not judged");
        let none = ErrorResults::new(ErrorGroups::default(), 0, None, Some(0.0));
        assert_eq!(none.rate, 0.0);
        assert!(none.within_limit());
    }

    #[test]
    fn since_gives_the_new_errors_per_group() {
        let mut groups = ErrorGroups::default();
        groups.record(&Error::msg("a"));
        let earlier = groups.clone();
        groups.record(&Error::msg("a"));
        groups.record(&Error::msg("b"));
        let new = groups.since(&earlier);
        assert_eq!(new.get("Test: a"), Some(&1));
        assert_eq!(new.get("Test: b"), Some(&1));
        assert!(groups.since(&groups).is_empty());
    }
}
