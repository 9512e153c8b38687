//! The report binary's child processes: what a child is asked to measure, what it answers, and how the parent
//! runs it.
//!
//! `hamt-bench` measures every figure in a process of its own (see its documentation for why). The parent starts
//! its own executable as `hamt-bench --child REQUEST`, where `REQUEST` is a [`Request`] in JSON; the child runs it
//! with [`serve`] and prints its [`Reply`] as one JSON document on standard output, and nothing else there. The
//! parent reads it back with [`run`], which turns every way a child can go wrong (it cannot start, it runs out of
//! time, it fails, it prints something that is not a reply, or a reply to another job) into a [`ChildError`],
//! never a panic.

use std::fmt;
use std::io::Read;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::extras::{self, Section};
use crate::maps::Implementation;
use crate::memory::{self, HeapFigures, KeyPattern};
use crate::report;
use crate::sampler::Sampler;
use crate::scenarios::{KeyKind, Scenario};

/// One child process's work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "job", rename_all = "snake_case")]
pub enum Job {
    /// Time a scenario: `samples` samples of one implementation at one size.
    Time {
        /// The workload.
        scenario: Scenario,
        /// The key type.
        key: KeyKind,
        /// The number of entries.
        size: usize,
        /// The map measured.
        implementation: Implementation,
        /// How many samples to take.
        samples: usize,
    },
    /// Count the heap of one map, per entry.
    Memory {
        /// The map measured.
        implementation: Implementation,
        /// The number of entries.
        size: usize,
        /// The keys.
        pattern: KeyPattern,
        /// The seed of the map's [`BenchHasher`](crate::maps::BenchHasher).
        seed: u64,
    },
    /// Count the extra heap of each variant in the variants workload.
    VariantMemory {
        /// The map measured.
        implementation: Implementation,
        /// The size of the base map.
        size: usize,
    },
    /// Run a section of [`extras`], by name.
    Extra {
        /// The section's name in [`extras::SECTIONS`].
        name: String,
    },
}

impl Job {
    /// The job in a few words, as the progress lines and the failures table name it.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_benches::child::Job;
    /// use hamt_benches::maps::Implementation;
    /// use hamt_benches::memory::KeyPattern;
    ///
    /// let (implementation, pattern) = (Implementation::HamtRc, KeyPattern::Random);
    /// let job = Job::Memory { implementation, size: 10_000, pattern, seed: 42 };
    /// assert_eq!(job.describe(), "heap per entry 10k hamt-rc random seed 000000000000002a");
    /// ```
    pub fn describe(&self) -> String {
        match self {
            Self::Time { scenario, key, size, implementation, .. } => {
                format!("{} {} {} {}", scenario.name(), key.name(), report::size_label(*size), implementation.name())
            }
            Self::Memory { implementation, size, pattern, seed } => {
                format!(
                    "heap per entry {} {} {} seed {seed:016x}",
                    report::size_label(*size),
                    implementation.name(),
                    pattern.name()
                )
            }
            Self::VariantMemory { implementation, size } => {
                format!("heap per variant {} {}", report::size_label(*size), implementation.name())
            }
            Self::Extra { name } => format!("section {name}"),
        }
    }
}

/// What the parent sends a child: a job and how to sample it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// What to measure.
    pub job: Job,
    /// Whether this is a `--quick` run (the sections measure fewer sizes).
    pub quick: bool,
    /// The shortest time a timing sample runs for.
    pub min_sample_time: Duration,
}

/// What a child sends back: the figures of its job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "snake_case")]
pub enum Reply {
    /// The answer to [`Job::Time`]: nanoseconds per run of the scenario's routine, one value per sample.
    Time {
        /// The samples, in the order they were taken.
        samples_ns: Vec<f64>,
    },
    /// The answer to [`Job::Memory`].
    Memory {
        /// Live requested bytes and allocations, per entry.
        per_entry: HeapFigures,
    },
    /// The answer to [`Job::VariantMemory`].
    VariantMemory {
        /// How many variants were made.
        variants: usize,
        /// Extra live requested bytes and allocations, per variant.
        per_variant: HeapFigures,
    },
    /// The answer to [`Job::Extra`].
    Extra {
        /// What the section measured.
        section: Section,
    },
}

impl Reply {
    /// Whether this is the kind of reply that `job` asks for.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_benches::child::{Job, Reply};
    /// use hamt_benches::maps::Implementation;
    /// use hamt_benches::memory::KeyPattern;
    ///
    /// let (implementation, pattern) = (Implementation::HamtRc, KeyPattern::Sequential);
    /// let job = Job::Memory { implementation, size: 10, pattern, seed: 1 };
    /// assert!(!Reply::Time { samples_ns: vec![1.0] }.answers(&job));
    /// ```
    pub fn answers(&self, job: &Job) -> bool {
        matches!(
            (job, self),
            (Job::Time { .. }, Self::Time { .. })
                | (Job::Memory { .. }, Self::Memory { .. })
                | (Job::VariantMemory { .. }, Self::VariantMemory { .. })
                | (Job::Extra { .. }, Self::Extra { .. })
        )
    }
}

/// Why a child produced no reply.
#[derive(Debug)]
#[non_exhaustive]
pub enum ChildError {
    /// The request could not be written or read as JSON.
    Request(serde_json::Error),
    /// The request names a section that [`extras::SECTIONS`] does not have.
    UnknownSection(String),
    /// The child process could not be started or waited for.
    Process(std::io::Error),
    /// The child ran longer than its time limit and was killed.
    TimedOut(Duration),
    /// The child exited with a failure.
    Failed {
        /// How it exited.
        status: ExitStatus,
        /// The last lines of its standard error, joined with ` / `.
        stderr_tail: String,
    },
    /// The child's standard output is not a [`Reply`] in JSON.
    Unreadable {
        /// Why serde_json refused it.
        error: serde_json::Error,
        /// The start of what the child printed.
        stdout_start: String,
    },
    /// The child replied to a job of another kind.
    WrongReply,
}

impl fmt::Display for ChildError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Request(error) => write!(formatter, "unreadable request: {error}"),
            Self::UnknownSection(name) => write!(formatter, "unknown section {name}"),
            Self::Process(error) => write!(formatter, "cannot run the child process: {error}"),
            Self::TimedOut(limit) => write!(formatter, "timed out after {} s", limit.as_secs()),
            Self::Failed { status, stderr_tail } => write!(formatter, "child failed ({status}): {stderr_tail}"),
            Self::Unreadable { error, stdout_start } => {
                write!(formatter, "the child printed no reply ({error}): {stdout_start:?}")
            }
            Self::WrongReply => formatter.write_str("the child replied to a job of another kind"),
        }
    }
}

impl std::error::Error for ChildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Request(error) | Self::Unreadable { error, .. } => Some(error),
            Self::Process(error) => Some(error),
            _ => None,
        }
    }
}

/// Runs `request` in this process: the child side. Call it only in a process of its own, started for this one
/// request, since the heap jobs count every allocation of the process from here on.
///
/// # Errors
///
/// Returns [`ChildError::UnknownSection`] if the request names a section that does not exist.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// use hamt_benches::child::{Job, Reply, Request, serve};
/// use hamt_benches::maps::Implementation;
/// use hamt_benches::scenarios::{KeyKind, Scenario};
///
/// let job = Job::Time {
///     scenario: Scenario::LookupHit,
///     key: KeyKind::U64,
///     size: 100,
///     implementation: Implementation::HamtRc,
///     samples: 2,
/// };
/// let request = Request { job, quick: true, min_sample_time: Duration::from_micros(10) };
/// let Reply::Time { samples_ns } = serve(&request)? else { panic!("a timing job gets a timing reply") };
/// assert_eq!(samples_ns.len(), 2);
/// # Ok::<(), hamt_benches::child::ChildError>(())
/// ```
pub fn serve(request: &Request) -> Result<Reply, ChildError> {
    match &request.job {
        &Job::Time { scenario, key, size, implementation, samples } => {
            let mut sampler = Sampler::new(samples, request.min_sample_time);
            scenario.run_with(implementation, key, size, &mut sampler);
            Ok(Reply::Time { samples_ns: sampler.results().to_vec() })
        }
        &Job::Memory { implementation, size, pattern, seed } => {
            crate::alloc::start_counting();
            Ok(Reply::Memory { per_entry: memory::map_heap_per_entry(implementation, size, pattern, seed) })
        }
        &Job::VariantMemory { implementation, size } => {
            crate::alloc::start_counting();
            let (per_variant, variants) = memory::variant_heap(implementation, size);
            Ok(Reply::VariantMemory { variants, per_variant })
        }
        Job::Extra { name } => {
            let run = extras::find(name).ok_or_else(|| ChildError::UnknownSection(name.clone()))?;
            Ok(Reply::Extra { section: run(request.quick) })
        }
    }
}

/// Runs `request` in a child process: `executable --child REQUEST`, which must answer with [`serve`]'s reply.
///
/// # Errors
///
/// Every way the child can fail, as a [`ChildError`]: see [`collect`], and [`ChildError::WrongReply`] if it
/// answers a job of another kind.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// use hamt_benches::child::{ChildError, Job, Request, run};
///
/// // `true` accepts any arguments and prints nothing: that is no reply.
/// let request = Request { job: Job::Extra { name: "serde".to_owned() }, quick: true, min_sample_time: Duration::ZERO };
/// let error = run("true".as_ref(), &request, Duration::from_secs(10)).unwrap_err();
/// assert!(matches!(error, ChildError::Unreadable { .. }));
/// ```
pub fn run(executable: &Path, request: &Request, timeout: Duration) -> Result<Reply, ChildError> {
    let mut command = Command::new(executable);
    command.arg("--child").arg(serde_json::to_string(request).map_err(ChildError::Request)?);
    let reply = collect(command, timeout)?;
    if reply.answers(&request.job) { Ok(reply) } else { Err(ChildError::WrongReply) }
}

/// Runs `command` with a time limit and reads the [`Reply`] it prints on standard output.
///
/// Standard output and standard error are read on threads of their own while the child runs, so that a child that
/// fills one pipe cannot block.
///
/// # Errors
///
/// [`ChildError::Process`] if it cannot be started or waited for, [`ChildError::TimedOut`] if it runs longer than
/// `timeout` (it is then killed), [`ChildError::Failed`] if it exits with a failure, and
/// [`ChildError::Unreadable`] if what it printed is not one reply in JSON.
///
/// # Examples
///
/// ```
/// use std::process::Command;
/// use std::time::Duration;
///
/// use hamt_benches::child::{ChildError, collect};
///
/// let mut failing = Command::new("sh");
/// failing.args(["-c", "echo broken >&2; exit 3"]);
/// let error = collect(failing, Duration::from_secs(10)).unwrap_err();
/// assert!(matches!(error, ChildError::Failed { ref stderr_tail, .. } if stderr_tail == "broken"));
/// ```
pub fn collect(mut command: Command, timeout: Duration) -> Result<Reply, ChildError> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(ChildError::Process)?;
    let readers = [child.stdout.take().map(read_on_a_thread), child.stderr.take().map(read_on_a_thread)];
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if started.elapsed() > timeout => {
                // The child is past its limit; if killing it fails, it has exited by itself in the meantime.
                let _ = child.kill();
                let _ = child.wait();
                break Err(ChildError::TimedOut(timeout));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(error) => break Err(ChildError::Process(error)),
        }
    };
    // On a timeout, the readers are left behind rather than joined: a grandchild the killed child started may
    // still hold the pipes open, and waiting for it would undo the time limit.
    let status = status?;
    let [stdout, stderr] = readers.map(|reader| reader.and_then(|thread| thread.join().ok()).unwrap_or_default());
    if !status.success() {
        let lines: Vec<&str> = stderr.lines().filter(|line| !line.trim().is_empty()).collect();
        let stderr_tail = lines[lines.len().saturating_sub(3)..].join(" / ");
        return Err(ChildError::Failed { status, stderr_tail });
    }
    serde_json::from_str(&stdout)
        .map_err(|error| ChildError::Unreadable { error, stdout_start: stdout.chars().take(200).collect() })
}

/// Reads a pipe to its end on a new thread; bytes that are not UTF-8 are replaced, not an error.
fn read_on_a_thread(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        // A read error ends the output early; what was read is still worth showing.
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}
