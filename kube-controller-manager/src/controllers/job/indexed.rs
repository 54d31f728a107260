//! Indexed Jobs: the completion index every pod carries, the `status.completedIndexes`
//! interval list ("1,3-5,7"), which indexes still need a pod, and which pods repeat an index.

use k8s_openapi::api::core::v1::Pod;
use std::sync::Arc;

pub const COMPLETION_INDEX: &str = "batch.kubernetes.io/job-completion-index";
pub const COMPLETION_INDEX_ENV: &str = "JOB_COMPLETION_INDEX";

/// The pod's completion index, if it has a valid one.
pub fn completion_index(pod: &Pod) -> Option<usize> {
    let value = pod.metadata.annotations.as_ref()?.get(COMPLETION_INDEX)?;
    value.parse::<usize>().ok()
}

/// A valid index below `completions`.
pub fn valid_index(pod: &Pod, completions: usize) -> Option<usize> {
    completion_index(pod).filter(|ix| *ix < completions)
}

/// Sorted, non-overlapping, non-adjacent closed intervals of indexes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Intervals(Vec<(usize, usize)>);

impl Intervals {
    /// Parses `status.completedIndexes`, dropping what is malformed or not below `completions`
    /// (as upstream does after a scale-down of completions).
    pub fn parse(s: &str, completions: usize) -> Intervals {
        let mut indexes = Vec::new();
        for part in s.split(',').filter(|p| !p.is_empty()) {
            let (first, last) = match part.split_once('-') {
                Some((a, b)) => (a.parse::<usize>(), b.parse::<usize>()),
                None => (part.parse::<usize>(), part.parse::<usize>()),
            };
            let (Ok(first), Ok(last)) = (first, last) else {
                continue;
            };
            let last = last.min(completions.saturating_sub(1));
            if first > last || first >= completions {
                continue;
            }
            indexes.push((first, last));
        }
        let mut out = Intervals::default();
        for (a, b) in indexes {
            out.insert_interval(a, b);
        }
        out
    }

    fn insert_interval(&mut self, first: usize, last: usize) {
        let mut merged = (first, last);
        let mut rest = Vec::with_capacity(self.0.len() + 1);
        for &(a, b) in &self.0 {
            if b + 1 < merged.0 || merged.1 + 1 < a {
                rest.push((a, b));
            } else {
                merged = (merged.0.min(a), merged.1.max(b));
            }
        }
        rest.push(merged);
        rest.sort_unstable();
        self.0 = rest;
    }

    /// These intervals plus `indexes`.
    pub fn with_indexes(&self, indexes: impl IntoIterator<Item = usize>) -> Intervals {
        let mut out = self.clone();
        for ix in indexes {
            if !out.has(ix) {
                out.insert_interval(ix, ix);
            }
        }
        out
    }

    pub fn has(&self, ix: usize) -> bool {
        self.0.iter().any(|&(a, b)| a <= ix && ix <= b)
    }

    pub fn total(&self) -> usize {
        self.0.iter().map(|&(a, b)| b - a + 1).sum()
    }

    pub fn intervals(&self) -> &[(usize, usize)] {
        &self.0
    }
}

impl std::fmt::Display for Intervals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, &(a, b)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match b - a {
                0 => write!(f, "{a}")?,
                1 => write!(f, "{a},{b}")?,
                _ => write!(f, "{a}-{b}")?,
            }
        }
        Ok(())
    }
}

/// The first `count` indexes below `completions` that no pod covers and that did not succeed.
pub fn first_pending(non_pending: &Intervals, count: usize, completions: usize) -> Vec<usize> {
    let mut out = Vec::with_capacity(count);
    let mut candidate = 0;
    for &(a, b) in non_pending.intervals() {
        while candidate < completions && out.len() < count && candidate < a {
            out.push(candidate);
            candidate += 1;
        }
        candidate = candidate.max(b + 1);
    }
    while candidate < completions && out.len() < count {
        out.push(candidate);
        candidate += 1;
    }
    out
}

/// The generateName of an indexed pod: `<job>-<index>-`, with the job name shortened so the
/// generated name stays within 63 characters.
pub fn generate_name(job: &str, index: usize) -> String {
    let suffix = format!("-{index}-");
    let prefix = format!("{job}{suffix}");
    if prefix.len() <= 58 {
        return prefix;
    }
    let keep = 58usize.saturating_sub(suffix.len());
    let cut = (0..=keep).rev().find(|i| job.is_char_boundary(*i)).unwrap_or(0);
    format!("{}{suffix}", &job[..cut])
}

/// Splits active pods of an indexed Job into those to remove (no valid index, index beyond
/// completions, or a second pod for one index) and those to keep. Of pods sharing an index the
/// one `order` puts last (the one most worth keeping) stays.
pub fn split_duplicates(
    pods: &[Arc<Pod>],
    completions: usize,
    order: impl Fn(&mut [Arc<Pod>]),
) -> (Vec<Arc<Pod>>, Vec<Arc<Pod>>) {
    let mut by_index: std::collections::BTreeMap<usize, Vec<Arc<Pod>>> = Default::default();
    let mut rm = Vec::new();
    for p in pods {
        match valid_index(p, completions) {
            Some(ix) => by_index.entry(ix).or_default().push(p.clone()),
            None => rm.push(p.clone()),
        }
    }
    let mut left = Vec::new();
    for (_, mut same) in by_index {
        order(&mut same);
        if let Some(keep) = same.pop() {
            left.push(keep);
        }
        rm.extend(same);
    }
    (rm, left)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completed_indexes_round_trip_and_merge() {
        let i = Intervals::parse("1,3-5,7", 10);
        assert_eq!(i.to_string(), "1,3-5,7");
        assert_eq!(i.total(), 5);
        assert_eq!(i.with_indexes([2, 6]).to_string(), "1-7");
        assert_eq!(i.with_indexes([8]).to_string(), "1,3-5,7,8");
        assert_eq!(Intervals::parse("0-9", 4).to_string(), "0-3");
        assert_eq!(Intervals::parse("x,2", 4).to_string(), "2");
        assert_eq!(Intervals::default().with_indexes([0, 1]).to_string(), "0,1");
    }

    #[test]
    fn pending_indexes_skip_succeeded_and_active() {
        let non_pending = Intervals::parse("0,2-3", 10);
        assert_eq!(first_pending(&non_pending, 3, 10), [1, 4, 5]);
        assert_eq!(first_pending(&non_pending, 3, 5), [1, 4]);
        assert!(first_pending(&Intervals::parse("0-4", 5), 2, 5).is_empty());
    }

    #[test]
    fn indexed_pod_names_stay_short() {
        assert_eq!(generate_name("job", 3), "job-3-");
        let long = "a".repeat(70);
        let name = generate_name(&long, 12);
        assert_eq!(name.len(), 58);
        assert!(name.ends_with("-12-"));
    }
}
