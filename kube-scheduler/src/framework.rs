//! The scheduling framework's extension points as upstream defines them (PreFilter, Filter,
//! PreScore, Score, NormalizeScore), the status a plugin answers with, and per-cycle state.

use crate::cache::{Cache, NodeInfo};
use crate::podinfo::PodInfo;
use std::any::Any;

pub const MAX_NODE_SCORE: i64 = 100;

/// Why a plugin rejects a node (or, from PreFilter, every node).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// Another pod's removal (preemption) could help.
    Unschedulable,
    /// Nothing short of a change to the node or the pod helps.
    UnschedulableAndUnresolvable,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub code: Code,
    pub reasons: Vec<String>,
    pub plugin: &'static str,
}

impl Status {
    pub fn unschedulable(plugin: &'static str, reason: impl Into<String>) -> Status {
        Status {
            code: Code::Unschedulable,
            reasons: vec![reason.into()],
            plugin,
        }
    }

    pub fn unresolvable(plugin: &'static str, reason: impl Into<String>) -> Status {
        Status {
            code: Code::UnschedulableAndUnresolvable,
            reasons: vec![reason.into()],
            plugin,
        }
    }
}

pub type FilterResult = Result<(), Status>;

/// State plugins compute once per scheduling cycle (PreFilter/PreScore) and read per node.
/// A handful of entries: a list scan beats hashing on every per-node read.
#[derive(Default)]
pub struct CycleState {
    data: Vec<(&'static str, Box<dyn Any + Send + Sync>)>,
}

impl CycleState {
    pub fn write<T: Any + Send + Sync>(&mut self, key: &'static str, v: T) {
        self.data.retain(|(k, _)| *k != key);
        self.data.push((key, Box::new(v)));
    }

    pub fn read<T: Any>(&self, key: &'static str) -> Option<&T> {
        self.data
            .iter()
            .find(|(k, _)| *k == key)
            .and_then(|(_, b)| b.downcast_ref())
    }
}

/// One plugin. A plugin implements the extension points it takes part in; the defaults do nothing.
pub trait Plugin: Send + Sync {
    fn name(&self) -> &'static str;

    /// Once per cycle before filtering; an error rejects the pod on every node.
    fn pre_filter(&self, _state: &mut CycleState, _pod: &PodInfo, _cache: &Cache) -> FilterResult {
        Ok(())
    }

    fn filter(&self, _state: &CycleState, _pod: &PodInfo, _node: &NodeInfo) -> FilterResult {
        Ok(())
    }

    /// Once per cycle before scoring, with the nodes that passed the filters.
    fn pre_score(&self, _state: &mut CycleState, _pod: &PodInfo, _cache: &Cache, _nodes: &[&NodeInfo]) {}

    fn score(&self, _state: &CycleState, _pod: &PodInfo, _node: &NodeInfo) -> i64 {
        0
    }

    /// Maps raw scores (one per node, in the order scored) onto 0..=MAX_NODE_SCORE.
    fn normalize(&self, _state: &CycleState, _pod: &PodInfo, _nodes: &[&NodeInfo], _scores: &mut [i64]) {}
}

/// Scales scores so the largest becomes MAX_NODE_SCORE; with `reverse`, the largest becomes 0
/// (upstream's DefaultNormalizeScore).
pub fn default_normalize(scores: &mut [i64], reverse: bool) {
    let max = scores.iter().copied().max().unwrap_or(0);
    if max == 0 {
        if reverse {
            scores.iter_mut().for_each(|s| *s = MAX_NODE_SCORE);
        }
        return;
    }
    for s in scores.iter_mut() {
        *s = MAX_NODE_SCORE * *s / max;
        if reverse {
            *s = MAX_NODE_SCORE - *s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizing() {
        let cases: [(&[i64], bool, &[i64]); 4] = [
            (&[1, 2, 4], false, &[25, 50, 100]),
            (&[1, 2, 4], true, &[75, 50, 0]),
            (&[0, 0], false, &[0, 0]),
            (&[0, 0], true, &[100, 100]),
        ];
        for (input, reverse, want) in cases {
            let mut s = input.to_vec();
            default_normalize(&mut s, reverse);
            assert_eq!(s, want, "{input:?} reverse={reverse}");
        }
    }
}
