//! Which process runs which instances.

/// The instances one process runs: parallel indexes `first_index..first_index + count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcessShare {
    /// The parallel index of the process's first instance.
    pub first_index: usize,
    /// How many instances the process runs.
    pub count: usize,
}

/// Spreads `parallel` instances over at most `processes` processes, the
/// reference's way: with `k, m = divmod(parallel, processes)`, process `i`
/// gets `k + (1 if i < m)` instances starting at `i*k + min(i, m)`. The
/// effective number of processes is `min(parallel, processes)`.
///
/// `split(10, 4)` gives 3, 3, 2, 2 instances at indexes 0, 3, 6, 8.
pub fn split(parallel: usize, processes: usize) -> Vec<ProcessShare> {
    let processes = processes.clamp(1, parallel.max(1));
    let (per_process, remainder) = (parallel / processes, parallel % processes);
    (0..processes)
        .map(|index| ProcessShare {
            first_index: index * per_process + index.min(remainder),
            count: per_process + usize::from(index < remainder),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(parallel: usize, processes: usize) -> Vec<usize> {
        split(parallel, processes)
            .iter()
            .map(|share| share.count)
            .collect()
    }

    #[test]
    fn reference_example() {
        assert_eq!(counts(10, 4), vec![3, 3, 2, 2]);
        let firsts: Vec<_> = split(10, 4).iter().map(|share| share.first_index).collect();
        assert_eq!(firsts, vec![0, 3, 6, 8]);
    }

    #[test]
    fn effective_processes_never_exceed_parallel() {
        assert_eq!(counts(2, 8), vec![1, 1]);
        assert_eq!(counts(1, 1), vec![1]);
        assert_eq!(counts(5, 1), vec![5]);
        assert_eq!(counts(3, 0), vec![3]);
    }

    #[test]
    fn indexes_are_unique_and_cover_everything() {
        for parallel in 1..40 {
            for processes in 1..12 {
                let shares = split(parallel, processes);
                assert_eq!(shares.len(), processes.min(parallel));
                let mut next = 0;
                for share in &shares {
                    assert_eq!(share.first_index, next, "contiguous, in order");
                    assert!(share.count >= 1);
                    next += share.count;
                }
                assert_eq!(next, parallel);
                let (min, max) = (
                    shares.iter().map(|s| s.count).min().unwrap(),
                    shares.iter().map(|s| s.count).max().unwrap(),
                );
                assert!(max - min <= 1, "balanced");
            }
        }
    }
}
