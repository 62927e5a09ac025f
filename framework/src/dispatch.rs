//! Serial and parallel dispatch of a pure per-entity function.
//!
//! Both paths run the same closure over the same slice and return results in entity order, so
//! parallel output is identical to serial (README §4 item 2). A panic inside one entity is caught
//! and becomes that entity's `PROCESSING_ERROR`; the others complete (README §4 item 3). The
//! parallel path runs on a rayon pool; neither path holds an async worker while it computes
//! (see `off_the_async_workers`).

use std::panic::{AssertUnwindSafe, catch_unwind};

use rayon::prelude::*;

use crate::processor::{EntityFailure, FailureCategory};
use crate::progress::Progress;

/// How entities are dispatched: `ENABLE_PLAYER_PARALLELIZATION=false` (or `--serial`) is serial.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DispatchMode {
    Serial,
    Parallel { workers: usize },
}

impl DispatchMode {
    /// The configured mode (README §3.2, where flags override the environment): serial when asked
    /// (`--serial`); parallel with `workers` when given (`--workers`), even if
    /// `ENABLE_PLAYER_PARALLELIZATION=false`; otherwise serial when that variable is false, else
    /// parallel with the processor's worker chain.
    pub fn configured(
        settings: &crate::config::Settings,
        workers_variable: &str,
        serial: bool,
        workers: Option<usize>,
    ) -> DispatchMode {
        match workers {
            _ if serial => DispatchMode::Serial,
            Some(workers) => DispatchMode::Parallel { workers },
            None if !settings.parallel => DispatchMode::Serial,
            None => DispatchMode::Parallel { workers: settings.workers_for(workers_variable) },
        }
    }

    pub fn workers(self) -> Option<usize> {
        match self {
            DispatchMode::Serial => None,
            DispatchMode::Parallel { workers } => Some(workers),
        }
    }
}

/// The rows and failures of one dispatch, in entity order.
///
/// Batches push their outcomes straight into it (`Processor::process_batch`): a PCF or MLFS row
/// is ~800 bytes, and each move of it from a batch's vector into a date's, or into a larger
/// vector as one grows, had cost about a tenth of PCF's compute.
#[derive(Debug, PartialEq)]
pub struct Dispatched<R> {
    pub rows: Vec<R>,
    pub failures: Vec<EntityFailure>,
}

impl<R> Dispatched<R> {
    /// Room for a row per entity, so that rows are never moved to a larger vector.
    pub fn for_entities(count: usize) -> Dispatched<R> {
        Dispatched { rows: Vec::with_capacity(count), failures: Vec::new() }
    }

    pub fn push(&mut self, outcome: Result<R, EntityFailure>) {
        match outcome {
            Ok(row) => self.rows.push(row),
            Err(failure) => self.failures.push(failure),
        }
    }

    fn mark(&self) -> Mark {
        Mark { rows: self.rows.len(), failures: self.failures.len() }
    }

    /// Drops the outcomes pushed since `mark`.
    fn truncate(&mut self, mark: Mark) {
        self.rows.truncate(mark.rows);
        self.failures.truncate(mark.failures);
    }

    fn append(&mut self, mut other: Dispatched<R>) {
        self.rows.append(&mut other.rows);
        self.failures.append(&mut other.failures);
    }
}

/// Outcomes pushed in their order: each entity computed alone, as tests compare batches with.
impl<R> FromIterator<Result<R, EntityFailure>> for Dispatched<R> {
    fn from_iter<T: IntoIterator<Item = Result<R, EntityFailure>>>(outcomes: T) -> Dispatched<R> {
        let outcomes = outcomes.into_iter();
        let mut dispatched = Dispatched::for_entities(outcomes.size_hint().0);
        for outcome in outcomes {
            dispatched.push(outcome);
        }
        dispatched
    }
}

/// Where a batch's outcomes start in a [`Dispatched`].
#[derive(Clone, Copy)]
struct Mark {
    rows: usize,
    failures: usize,
}

/// A worker pool sized once per run; serial mode needs none.
pub struct Dispatcher {
    mode: DispatchMode,
    pool: Option<rayon::ThreadPool>,
}

impl Dispatcher {
    /// # Errors
    /// The operating system refuses the worker threads.
    pub fn new(mode: DispatchMode) -> Result<Self, rayon::ThreadPoolBuildError> {
        let pool = match mode {
            DispatchMode::Serial => None,
            DispatchMode::Parallel { workers } => Some(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(workers)
                    .thread_name(|index| format!("entity-worker-{index}"))
                    .build()?,
            ),
        };
        Ok(Dispatcher { mode, pool })
    }

    pub fn mode(&self) -> DispatchMode {
        self.mode
    }

    /// Runs `work` on every entity, [`BATCH`] consecutive entities at a time, each batch pushing
    /// one outcome per entity in their order; `entity_id` names an entity whose computation
    /// panicked.
    pub fn run<E, R, W, I>(&self, entities: &[E], progress: &Progress, work: W, entity_id: I) -> Dispatched<R>
    where
        E: Sync,
        R: Send,
        W: Fn(&[E], &mut Dispatched<R>) + Sync,
        I: Fn(&E) -> String + Sync,
    {
        let run_batch = |batch: &[E], outcomes: &mut Dispatched<R>| {
            compute_batch(batch, &work, &entity_id, outcomes);
            for _ in batch {
                progress.entity_done();
            }
        };
        off_the_async_workers(|| match &self.pool {
            None => in_batches(entities, run_batch),
            Some(pool) => {
                let batches: Vec<Dispatched<R>> = pool.install(|| {
                    entities
                        .par_chunks(BATCH)
                        .map(|batch| {
                            let mut outcomes = Dispatched::for_entities(batch.len());
                            run_batch(batch, &mut outcomes);
                            outcomes
                        })
                        .collect()
                });
                let mut dispatched = Dispatched::for_entities(entities.len());
                for batch in batches {
                    dispatched.append(batch);
                }
                dispatched
            }
        })
    }
}

/// Entities computed together: PCF and MLFS hash a batch's rows in one pass of the CPU's sixteen
/// vector lanes (`Processor::process_batch`). Small enough that two workers share even a small
/// date's batches.
pub const BATCH: usize = 16;

/// The outcomes `work` pushes for each [`BATCH`] of `entities` in turn, one after another: the
/// serial dispatch, and how a bench or a test computes a date as the dispatcher does.
pub fn in_batches<E, R>(entities: &[E], mut work: impl FnMut(&[E], &mut Dispatched<R>)) -> Dispatched<R> {
    let mut outcomes = Dispatched::for_entities(entities.len());
    for batch in entities.chunks(BATCH) {
        work(batch, &mut outcomes);
    }
    outcomes
}

/// Pushes `work`'s outcomes for `batch`. A panic names no entity, so a batch that panics is
/// computed again one entity at a time, its outcomes so far dropped: the entity that panics gets
/// its `PROCESSING_ERROR`, the others their rows, as if each had been computed alone.
fn compute_batch<E, R, W, I>(batch: &[E], work: &W, entity_id: &I, outcomes: &mut Dispatched<R>)
where
    W: Fn(&[E], &mut Dispatched<R>),
    I: Fn(&E) -> String,
{
    let mark = outcomes.mark();
    match catch_unwind(AssertUnwindSafe(|| work(batch, outcomes))) {
        Ok(()) => {
            let pushed = outcomes.rows.len() + outcomes.failures.len() - (mark.rows + mark.failures);
            assert_eq!(pushed, batch.len(), "a batch gives one outcome per entity");
        }
        Err(_) if batch.len() > 1 => {
            outcomes.truncate(mark);
            for entity in batch.chunks(1) {
                compute_batch(entity, work, entity_id, outcomes);
            }
        }
        Err(panic) => {
            outcomes.truncate(mark);
            let (id, message) = (entity_id(&batch[0]), panic_message(panic.as_ref()));
            // The reference's parallel path logged an entity's exception this way.
            let line = format!("Error processing {id}: {message}");
            outcomes
                .push(Err(EntityFailure::new(id, FailureCategory::ProcessingError, message).logged_as(line)));
        }
    }
}

/// Runs CPU-bound `work` without holding an async worker.
///
/// The runner dispatches from its async run: serial dispatch would compute on the worker that
/// polls the run, and `pool.install` blocks that worker until rayon is done, so the worker's
/// other tasks would wait for the whole date. On a multi-threaded runtime's worker,
/// `block_in_place` first hands those tasks to a new worker. A current-thread runtime (the
/// tests') has no other worker to hand them to (`block_in_place` panics there), and off any
/// worker there is nothing to free: `work` then runs as it is.
fn off_the_async_workers<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) if runtime.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".to_owned());
    format!("panic: {detail}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::{EntityNoun, PeriodicLine};

    fn toy(entity: &u64) -> Result<u64, EntityFailure> {
        if entity.is_multiple_of(997) {
            return Err(EntityFailure::new(
                entity.to_string(),
                FailureCategory::MissingData,
                "multiple of 997",
            ));
        }
        Ok(entity.wrapping_mul(2_654_435_761) % 1_000_003)
    }

    fn dispatch(mode: DispatchMode, entities: &[u64]) -> Dispatched<u64> {
        let progress = Progress::start(PeriodicLine::Rate(EntityNoun::Players), entities.len(), "toy");
        Dispatcher::new(mode).unwrap().run(
            entities,
            &progress,
            |batch, outcomes| batch.iter().for_each(|entity| outcomes.push(toy(entity))),
            |entity| entity.to_string(),
        )
    }

    /// The reference read its worker variables with `int()`, which crashed on a bad value, and
    /// silently capped the count at the CPU count (reference-framework.md §14 item 16). Here a
    /// bad value is an error naming the variable, and the configured count is the pool's size
    /// whatever the machine has (64 threads on a 2-core machine).
    #[test]
    fn reference_framework_14_16_worker_counts_are_validated_and_not_capped_by_the_cpu_count() {
        let error =
            crate::config::Settings::from_map(vec![("PCF_WORKERS".into(), "ten".into())]).unwrap_err();
        assert_eq!(error.to_string(), r#"invalid PCF_WORKERS "ten": expected a whole number from 1 to 256"#);

        let settings = crate::config::Settings::from_map(vec![("PCF_WORKERS".into(), "64".into())]).unwrap();
        let mode = DispatchMode::configured(&settings, "PCF_WORKERS", false, None);
        assert_eq!(mode, DispatchMode::Parallel { workers: 64 });
        let dispatcher = Dispatcher::new(mode).unwrap();
        assert_eq!(dispatcher.pool.as_ref().map(rayon::ThreadPool::current_num_threads), Some(64));
    }

    #[test]
    fn parallel_equals_serial_on_ten_thousand_entities() {
        let entities: Vec<u64> = (1..=10_000).collect();
        let serial = dispatch(DispatchMode::Serial, &entities);
        let parallel = dispatch(DispatchMode::Parallel { workers: 4 }, &entities);
        assert_eq!(serial.rows, parallel.rows);
        assert_eq!(serial.failures, parallel.failures);
        assert_eq!(serial.rows.len(), 9_990);
        assert_eq!(serial.failures.len(), 10);
        assert_eq!(serial.rows[0], 2_654_435_761 % 1_000_003);
    }

    /// With one async worker, a task woken while an entity computes on it can only run if
    /// dispatch has handed the worker over: the entity waits (for at most a minute) for that
    /// task, which waits for the entity to start.
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn dispatch_leaves_the_async_worker_to_other_tasks() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::time::{Duration, Instant};

        for mode in [DispatchMode::Serial, DispatchMode::Parallel { workers: 2 }] {
            let (started, entity_started) = tokio::sync::oneshot::channel::<()>();
            let other_task_ran = Arc::new(AtomicBool::new(false));
            let other_task = tokio::spawn({
                let other_task_ran = Arc::clone(&other_task_ran);
                async move {
                    if entity_started.await.is_ok() {
                        other_task_ran.store(true, Ordering::SeqCst);
                    }
                }
            });
            let dispatch = tokio::spawn({
                let other_task_ran = Arc::clone(&other_task_ran);
                async move {
                    let started = std::sync::Mutex::new(Some(started));
                    let progress = Progress::start(PeriodicLine::Rate(EntityNoun::Players), 1, "toy");
                    let dispatcher = Dispatcher::new(mode).unwrap();
                    dispatcher.run(
                        &[1u64],
                        &progress,
                        |_, outcomes| {
                            if let Some(started) = started.lock().unwrap().take() {
                                started.send(()).unwrap();
                            }
                            let deadline = Instant::now() + Duration::from_secs(60);
                            while !other_task_ran.load(Ordering::SeqCst) && Instant::now() < deadline {
                                std::thread::yield_now();
                            }
                            outcomes.push(Ok(other_task_ran.load(Ordering::SeqCst)));
                        },
                        |entity| entity.to_string(),
                    )
                }
            });
            let dispatched = dispatch.await.unwrap();
            other_task.await.unwrap();
            assert_eq!(dispatched.rows, vec![true], "{mode:?}");
        }
    }

    #[test]
    fn work_gets_consecutive_batches_of_sixteen_entities_and_a_shorter_last_one() {
        let entities: Vec<u64> = (0..40).collect();
        for mode in [DispatchMode::Serial, DispatchMode::Parallel { workers: 2 }] {
            let progress = Progress::start(PeriodicLine::Rate(EntityNoun::Players), entities.len(), "toy");
            let batches = std::sync::Mutex::new(Vec::new());
            let outcome = Dispatcher::new(mode).unwrap().run(
                &entities,
                &progress,
                |batch, outcomes| {
                    batches.lock().unwrap().push(batch.to_vec());
                    batch.iter().for_each(|entity| outcomes.push(Ok(entity * 10)));
                },
                |entity| entity.to_string(),
            );
            let mut batches = batches.into_inner().unwrap();
            batches.sort();
            assert_eq!(batches, vec![(0..16).collect(), (16..32).collect(), (32..40).collect::<Vec<u64>>()]);
            assert_eq!(outcome.rows, (0..40).map(|entity| entity * 10).collect::<Vec<u64>>(), "{mode:?}");
        }
    }

    #[test]
    fn a_panicking_entity_becomes_one_processing_error() {
        let entities: Vec<u64> = (1..=200).collect();
        for mode in [DispatchMode::Serial, DispatchMode::Parallel { workers: 3 }] {
            let progress = Progress::start(PeriodicLine::Rate(EntityNoun::Players), entities.len(), "toy");
            let outcome = Dispatcher::new(mode).unwrap().run(
                &entities,
                &progress,
                |batch, outcomes| {
                    for entity in batch {
                        match entity {
                            70 => outcomes.push(Err(EntityFailure::new(
                                "player70",
                                FailureCategory::MissingData,
                                "no row",
                            ))),
                            77 => panic!("bad entity {entity}"),
                            _ => outcomes.push(Ok(*entity)),
                        }
                    }
                },
                |entity| format!("player{entity}"),
            );
            // The other fifteen entities of 77's batch (65..=80) keep their outcomes, once each:
            // those pushed before the panic are dropped with the batch's first attempt.
            let expected_rows: Vec<u64> = (1..=200).filter(|entity| ![70, 77].contains(entity)).collect();
            assert_eq!(outcome.rows, expected_rows, "{mode:?}");
            assert_eq!(
                outcome.failures,
                vec![
                    EntityFailure::new("player70", FailureCategory::MissingData, "no row"),
                    EntityFailure {
                        entity_id: "player77".into(),
                        category: FailureCategory::ProcessingError,
                        reason: "panic: bad entity 77".into(),
                        can_retry: false,
                        log_line: Some("Error processing player77: panic: bad entity 77".into()),
                    }
                ],
                "{mode:?}"
            );
        }
    }
}
