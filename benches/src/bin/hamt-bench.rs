//! `hamt-bench`: runs every scenario for every implementation and writes `docs/benchmarks.md`, `.json` and `.svg`.
//!
//! ```text
//! cargo run --profile bench -p hamt-benches --bin hamt-bench -- [--quick] [--out DIR] [--filter TEXT] [--impl A,B]
//! ```
//!
//! Each measurement runs in a child process of its own (this same binary, started with `--child` and a
//! [`Request`] in JSON, answering with a [`Reply`] in JSON; see [`hamt_benches::child`]), so that the allocator
//! state a large map leaves behind when it is freed cannot slow the next timed section down, and so that the
//! counting allocator sees only the map it measures. The parent only plans, collects and writes.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use hamt_benches::child::{self, ChildError, Job, Reply, Request};
use hamt_benches::extras;
use hamt_benches::maps::Implementation;
use hamt_benches::memory::{self, KeyPattern};
use hamt_benches::report::{self, Failure, MemoryResult, Meta, REFERENCE, Report, TimeResult, VariantMemoryResult};
use hamt_benches::sampler::median;
use hamt_benches::scenarios::{KeyKind, Scenario};

const USAGE: &str = "usage: hamt-bench [--quick] [--out DIR] [--filter TEXT] [--impl NAME,NAME]

  --quick        fewer sizes and samples (under 5 minutes on 2 cores)
  --out DIR      where to write benchmarks.{md,json,svg} (default: the workspace's docs/)
  --filter TEXT  only the scenarios whose name contains TEXT (\"memory\" and \"variant\" select the heap figures)
  --impl LIST    only these implementations (comma-separated; std is always measured)";

/// What one run measures.
struct Plan {
    quick: bool,
    sizes: &'static [usize],
    colliding_sizes: &'static [usize],
    variant_sizes: &'static [usize],
    memory_sizes: &'static [usize],
    /// How many hash seeds the heap per entry is measured with, each in a process of its own.
    memory_seeds: usize,
    /// How many times every implementation is measured below 1M entries, each time in a new process, with the
    /// implementations taking turns: a burst of load on the machine then spoils a few samples of each instead of
    /// all of one. At 1M entries setting up costs more than measuring, and there are only 2 rounds.
    rounds: usize,
    min_sample_time: Duration,
    timeout: Duration,
}

impl Plan {
    fn new(quick: bool) -> Self {
        if quick {
            Self {
                quick,
                sizes: &[10_000, 100_000],
                colliding_sizes: &[10_000],
                variant_sizes: &[10_000],
                memory_sizes: &[10_000, 100_000, 1_000_000],
                memory_seeds: 3,
                rounds: 3,
                min_sample_time: Duration::from_millis(4),
                timeout: Duration::from_secs(180),
            }
        } else {
            Self {
                quick,
                sizes: &[1_000, 10_000, 100_000, 1_000_000],
                colliding_sizes: &[1_000, 10_000],
                variant_sizes: &[10_000, 100_000, 1_000_000],
                memory_sizes: &[10_000, 100_000, 1_000_000],
                memory_seeds: 5,
                rounds: 5,
                min_sample_time: Duration::from_millis(15),
                timeout: Duration::from_secs(900),
            }
        }
    }

    fn rounds(&self, size: usize) -> usize {
        if size >= 1_000_000 { 2 } else { self.rounds }
    }

    /// Samples per round and implementation.
    fn samples(&self, size: usize) -> usize {
        match (self.quick, size) {
            (true, _) | (false, 100_000..) => 2,
            (false, _) => 3,
        }
    }

    fn sampling(&self) -> String {
        let per_round = if self.quick { "2 samples" } else { "3 samples (2 from 100k entries on)" };
        format!(
            "Each implementation is measured in {} rounds (2 at 1M entries), each in a new process and with the \
             implementations taking turns; a round takes {per_round} of at least {} ms of timed calls (or one \
             call, if longer) after one untimed warm-up call, and the median is over the samples of all rounds.",
            self.rounds,
            self.min_sample_time.as_millis()
        )
    }

    fn sizes(&self, scenario: Scenario, key: KeyKind) -> &'static [usize] {
        match (scenario, key) {
            (_, KeyKind::Colliding) => self.colliding_sizes,
            (Scenario::Variants, _) => self.variant_sizes,
            _ => self.sizes,
        }
    }
}

struct Options {
    quick: bool,
    out: PathBuf,
    filter: Option<String>,
    implementations: Vec<Implementation>,
}

fn parse_options(arguments: &[String]) -> Result<Options, String> {
    let mut options = Options {
        quick: false,
        out: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs")),
        filter: None,
        implementations: Implementation::ALL.to_vec(),
    };
    let mut arguments = arguments.iter();
    while let Some(argument) = arguments.next() {
        match argument.as_str() {
            "--quick" => options.quick = true,
            "--out" => options.out = PathBuf::from(arguments.next().ok_or("--out needs a directory")?),
            "--filter" => options.filter = Some(arguments.next().ok_or("--filter needs a text")?.clone()),
            "--impl" => {
                let names = arguments.next().ok_or("--impl needs a list")?;
                let mut chosen = vec![REFERENCE];
                for name in names.split(',') {
                    let implementation =
                        Implementation::from_name(name).ok_or_else(|| format!("unknown implementation {name}"))?;
                    if !chosen.contains(&implementation) {
                        chosen.push(implementation);
                    }
                }
                chosen.sort();
                options.implementations = chosen;
            }
            // `cargo bench` passes `--bench` to every target it runs; ignore it.
            "--bench" => {}
            "--help" | "-h" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok(options)
}

fn plan_jobs(plan: &Plan, options: &Options) -> Vec<Job> {
    let selected = |name: &str| options.filter.as_ref().is_none_or(|filter| name.contains(filter.as_str()));
    let mut jobs = Vec::new();
    for scenario in Scenario::ALL {
        if !selected(scenario.name()) {
            continue;
        }
        for &key in scenario.keys() {
            for &size in plan.sizes(scenario, key) {
                // std first, so that the progress lines can show ratios as they come; then the others take turns.
                let mut implementations = options.implementations.clone();
                implementations.retain(|&implementation| scenario.applies_to(implementation));
                implementations.sort_by_key(|&implementation| implementation != REFERENCE);
                for _ in 0..plan.rounds(size) {
                    for &implementation in &implementations {
                        let samples = plan.samples(size);
                        jobs.push(Job::Time { scenario, key, size, implementation, samples });
                    }
                    if let Some(others) = implementations.get_mut(1..) {
                        others.rotate_left(1);
                    }
                }
            }
        }
    }
    if selected("memory_per_entry") {
        for &size in plan.memory_sizes {
            for pattern in KeyPattern::ALL {
                for seed in (0..plan.memory_seeds).map(memory::hash_seed) {
                    for &implementation in &options.implementations {
                        jobs.push(Job::Memory { implementation, size, pattern, seed });
                    }
                }
            }
        }
    }
    if selected("variant_memory") {
        for &size in plan.variant_sizes {
            for &implementation in &options.implementations {
                jobs.push(Job::VariantMemory { implementation, size });
            }
        }
    }
    for &(name, _) in extras::SECTIONS {
        if selected(name) {
            jobs.push(Job::Extra { name: name.to_owned() });
        }
    }
    jobs
}

/// Runs `job` in a child process of this same executable.
fn run_child(job: &Job, plan: &Plan) -> Result<Reply, ChildError> {
    let executable = std::env::current_exe().map_err(ChildError::Process)?;
    let request = Request { job: job.clone(), quick: plan.quick, min_sample_time: plan.min_sample_time };
    child::run(&executable, &request, plan.timeout)
}

fn parent(options: &Options) -> ExitCode {
    let plan = Plan::new(options.quick);
    let jobs = plan_jobs(&plan, options);
    let load_before = Meta::load_average();
    let started = Instant::now();
    let mut report = Report::default();
    eprintln!(
        "hamt-bench: {} measurements, each in a process of its own; ratios to std are of the medians so far",
        jobs.len()
    );
    for (index, job) in jobs.iter().enumerate() {
        let result = run_child(job, &plan);
        let elapsed = started.elapsed().as_secs();
        let mut progress =
            format!("[{:>4}/{}] {:>2}:{:02} {:<44}", index + 1, jobs.len(), elapsed / 60, elapsed % 60, job.describe());
        match (job, result) {
            (_, Err(error)) => {
                let message = error.to_string();
                progress.push_str(&format!(" FAILED: {message}"));
                report.failures.push(Failure { what: job.describe(), message });
            }
            (&Job::Time { scenario, key, size, implementation, .. }, Ok(Reply::Time { samples_ns })) => {
                let this_round = samples_ns.clone();
                let result = match report.times.iter().position(|result| {
                    (result.scenario, result.key, result.size, result.implementation)
                        == (scenario, key, size, implementation)
                }) {
                    Some(index) => &mut report.times[index],
                    None => {
                        report.times.push(TimeResult {
                            scenario,
                            key,
                            size,
                            implementation,
                            samples_ns: Vec::new(),
                            median_ns: f64::NAN,
                        });
                        report.times.last_mut().expect("just pushed")
                    }
                };
                result.samples_ns.extend(samples_ns);
                result.median_ns = median(&result.samples_ns);
                let elements = scenario.elements(implementation, size).max(1) as f64;
                let per = scenario.unit().map_or_else(
                    || report::format_time(median(&this_round)),
                    |unit| format!("{}/{unit}", report::format_time(median(&this_round) / elements)),
                );
                progress.push_str(&format!(" {per:>16}"));
                let ratio = report.ratio(scenario, key, size, implementation, REFERENCE);
                if let Some(ratio) = ratio.filter(|_| implementation != REFERENCE) {
                    progress.push_str(&format!("  {} std", report::format_ratio(ratio)));
                }
            }
            (&Job::Memory { implementation, size, pattern, seed }, Ok(Reply::Memory { per_entry })) => {
                let nodes = per_entry.allocations * size as f64;
                progress.push_str(&format!(" {:.2} B/entry, {nodes:.0} allocations", per_entry.bytes));
                report.memory.push(MemoryResult { implementation, size, pattern, seed, per_entry });
            }
            (&Job::VariantMemory { implementation, size }, Ok(Reply::VariantMemory { variants, per_variant })) => {
                progress.push_str(&format!(" {:.0} B/variant", per_variant.bytes));
                report.variant_memory.push(VariantMemoryResult { implementation, size, variants, per_variant });
            }
            (Job::Extra { .. }, Ok(Reply::Extra { section })) => {
                progress.push_str(&format!(" {} figures", section.figures.len()));
                report.extras.push(section);
            }
            // `child::run` has checked that the reply answers the job; this arm is for the compiler.
            (_, Ok(_)) => {
                let message = ChildError::WrongReply.to_string();
                progress.push_str(&format!(" FAILED: {message}"));
                report.failures.push(Failure { what: job.describe(), message });
            }
        }
        eprintln!("{progress}");
    }
    let mut meta = Meta::collect();
    meta.quick = options.quick;
    meta.command = if options.quick { "cargo xtask bench --quick" } else { "cargo xtask bench" }.to_owned();
    meta.sampling = plan.sampling();
    meta.duration_seconds = started.elapsed().as_secs_f64();
    meta.load_before = load_before;
    report.meta = meta;
    if let Err(error) = write_files(&report, options) {
        eprintln!("hamt-bench: cannot write the report: {error}");
        return ExitCode::FAILURE;
    }
    eprintln!();
    for target in report.targets() {
        eprintln!("target {:<52} {:<22} {}", target.scenario, target.status.label(), target.measured);
    }
    for target in report.extras.iter().flat_map(|section| &section.targets) {
        let status = target.met.map_or("not measured", |met| if met { "met" } else { "missed" });
        eprintln!("target {:<52} {:<22} {}", target.scenario, status, target.measured);
    }
    let out = std::fs::canonicalize(&options.out).unwrap_or_else(|_| options.out.clone());
    eprintln!(
        "hamt-bench: wrote benchmarks.md, .json and .svg to {} in {:.0} s",
        out.display(),
        report.meta.duration_seconds
    );
    if report.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("hamt-bench: {} measurements failed; see the report", report.failures.len());
        ExitCode::FAILURE
    }
}

fn write_files(report: &Report, options: &Options) -> std::io::Result<()> {
    std::fs::create_dir_all(&options.out)?;
    std::fs::write(options.out.join("benchmarks.md"), report.markdown())?;
    std::fs::write(options.out.join("benchmarks.json"), report.json()?)?;
    let svg = report.svg().map_err(|error| std::io::Error::other(error.to_string()))?;
    std::fs::write(options.out.join("benchmarks.svg"), svg)?;
    Ok(())
}

/// The child side: reads the request, measures, and prints the reply as one JSON document on standard output.
fn child(request: &str) -> Result<(), ChildError> {
    let request: Request = serde_json::from_str(request).map_err(ChildError::Request)?;
    let reply = child::serve(&request)?;
    let json = serde_json::to_string(&reply).map_err(ChildError::Request)?;
    println!("{json}");
    Ok(())
}

fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    if arguments.first().map(String::as_str) == Some("--child") {
        return match child(arguments.get(1).map_or("", String::as_str)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("hamt-bench child: {error}");
                ExitCode::FAILURE
            }
        };
    }
    match parse_options(&arguments) {
        Ok(options) => parent(&options),
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}
