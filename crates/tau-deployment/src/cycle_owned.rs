//! The runner's form of a plan: it owns the cases and gives each one's memory back once it is
//! evaluated.
//!
//! [`plan`](super::plan) borrows the fixture, which keeps every case alive until the whole run is
//! over. A million-case run then holds all of its cases next to everything it builds from them
//! (per-case reports, the processed-key window). Here the queue owns its cases, stored last to
//! first so each is popped off the end when its turn comes, and the vector is shrunk as it
//! empties. The order, the dedupe and the counts are those of [`plan`](super::plan).

use std::borrow::Cow;

use super::{case_key, evaluate, queue_order, CaseResult, Counts, Limits};
use crate::driver::Driver;
use crate::fixture::Case;
use crate::hooks::Hooks;
use crate::Result;

/// The cases one run will evaluate, owned, in reverse queue order.
#[derive(Debug)]
pub struct Queue {
    reversed: Vec<Case>,
    /// Discovery, dedupe and backlog counters; the rest are filled in by [`drain`].
    pub counts: Counts,
}

impl Queue {
    /// The queued cases, in no particular order.
    pub fn cases(&self) -> impl Iterator<Item = &Case> {
        self.reversed.iter()
    }

    pub fn len(&self) -> usize {
        self.reversed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.reversed.is_empty()
    }
}

/// Like [`plan`](super::plan), taking the cases: processed and backlogged cases are dropped here.
/// `nothing_processed` says that `is_processed` is false for every key (a fresh state dir), so no
/// key is built just to be looked up.
pub fn plan_owned(
    mut cases: Vec<Case>,
    nothing_processed: bool,
    is_processed: impl Fn(&str) -> bool,
    limits: &Limits,
) -> Queue {
    let mut counts = Counts {
        discovered: cases.len() as u64,
        ..Counts::default()
    };
    if !nothing_processed {
        cases.retain(|case| !is_processed(&case_key(case)));
    }
    counts.duplicate_skips = counts.discovered - cases.len() as u64;
    cases.sort_unstable_by(|a, b| queue_order(b, a));
    let take = cases.len().min(limits.queue_limit);
    counts.backlog = (cases.len() - take) as u64;
    // The backlog is the largest cases in queue order, which sit at the front.
    cases.drain(..cases.len() - take);
    counts.queued = take as u64;
    Queue {
        reversed: cases,
        counts,
    }
}

/// Like [`execute`](super::execute): evaluates every queued case in order, passing each result
/// to `sink` together with its case, which the sink frees (or sends on) when it is done with it.
pub fn drain(
    queue: Queue,
    limits: &Limits,
    driver: &mut dyn Driver,
    hooks: &mut dyn Hooks,
    sink: &mut dyn FnMut(CaseResult<'static>) -> Result<()>,
) -> Result<Counts> {
    let Queue {
        mut reversed,
        mut counts,
    } = queue;
    let total = reversed.len();
    let mut done = 0;
    while let Some(case) = reversed.pop() {
        let CaseResult {
            key,
            attempts,
            response,
            disposition,
            ..
        } = evaluate(&case, limits, driver, hooks, &mut counts)?;
        sink(CaseResult {
            case: Cow::Owned(case),
            key,
            attempts,
            response,
            disposition,
        })?;
        done += 1;
        if done % crate::hooks::PROGRESS_EVERY == 0 || done == total {
            hooks.progress(done, total);
        }
        // Shrinking whenever three quarters are free copies a third of the cases once more in
        // total (into freshly faulted pages, which is what makes copies dear) and keeps the
        // queue's memory within four times what is still to run.
        if reversed.capacity() > 1024 && reversed.len() < reversed.capacity() / 4 {
            reversed.shrink_to_fit();
        }
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::super::{execute, plan};
    use super::*;
    use crate::fixture::Fixture;
    use crate::simulated::ContractEvaluator;
    use proptest::prelude::*;

    fn fixture(ids: &[u32]) -> Fixture {
        let cases = ids
            .iter()
            .map(|i| {
                let target = ["container", "kubernetes", "wasm", "mainframe"][*i as usize % 4];
                Case::example(&format!("c{i:04}"), target, "native")
            })
            .collect();
        Fixture {
            schema_version: 1,
            name: "f".into(),
            description: None,
            cases,
            sha256: Default::default(),
        }
    }

    fn summary(r: &CaseResult<'_>) -> (String, String, u16, String) {
        (
            r.case.case_id.to_string(),
            r.key.to_string(),
            r.response.status_code,
            r.disposition.as_str().to_string(),
        )
    }

    proptest! {
        /// The owning queue runs exactly the cases the borrowing plan runs, in the same order,
        /// with the same results and counts.
        #[test]
        fn the_owned_queue_runs_what_the_borrowed_plan_runs(
            ids in proptest::collection::hash_set(0u32..5000, 0..80),
            processed in proptest::collection::hash_set(0u32..5000, 0..40),
            queue_limit in 1usize..100,
        ) {
            let ids: Vec<u32> = ids.into_iter().collect();
            let f = fixture(&ids);
            let done: std::collections::HashSet<String> = fixture(&processed.into_iter().collect::<Vec<_>>())
                .cases
                .iter()
                .map(|c| case_key(c).to_string())
                .collect();
            let limits = Limits { queue_limit, ..Limits::default() };
            let dir = tempfile::tempdir().unwrap();
            let mut hooks = crate::hooks::Quiet;

            let mut borrowed = Vec::new();
            let mut driver = ContractEvaluator::new(dir.path(), Default::default());
            let borrowed_counts = execute(
                plan(&f, |k| done.contains(k), &limits), &limits, &mut driver, &mut hooks,
                &mut |r| { borrowed.push(summary(&r)); Ok(()) },
            ).unwrap();

            let mut owned = Vec::new();
            let mut driver = ContractEvaluator::new(dir.path(), Default::default());
            let queue = plan_owned(f.cases.clone(), done.is_empty(), |k| done.contains(k), &limits);
            prop_assert_eq!(queue.len(), borrowed.len());
            let owned_counts = drain(queue, &limits, &mut driver, &mut hooks, &mut |r| {
                owned.push(summary(&r));
                Ok(())
            }).unwrap();

            prop_assert_eq!(owned, borrowed);
            prop_assert_eq!(owned_counts, borrowed_counts);
        }
    }
}
