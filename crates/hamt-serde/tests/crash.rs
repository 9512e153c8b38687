//! `VersionLog` survives crashes: a writer process killed at random points never loses a record it reported
//! appended and never leaves a corrupt version behind, and a file torn or damaged at its end (what a power loss
//! leaves) opens with exactly the complete records before the damage.
//!
//! The writer is this test binary itself, run again with `--exact crash_writer --ignored` and the log's path in
//! `HAMT_CRASH_WRITER_LOG`. It appends a deterministic sequence of versions (version i is [`recipe`]`(i)`) and prints
//! `appended i` after each append returns. Seeds are fixed, so a failure reproduces.

#[path = "../../hamt-core/tests/common/mod.rs"]
mod common;

use std::env;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

use hamt_core::HamtMap;
use hamt_serde::{LogError, VersionLog};

type Map = HamtMap<u64, u64>;

/// Where the writer child finds its log; its absence makes `crash_writer` a no-op.
const WRITER_LOG: &str = "HAMT_CRASH_WRITER_LOG";
/// How many versions one writer appends at most before it exits by itself.
const APPENDS_PER_WRITER: u64 = 60;
/// The size of the base map every version derives from.
const BASE: u64 = 2_000;

fn base() -> Map {
    (0..BASE).map(|key| (key, key)).collect()
}

/// Version `i`: the base with one key changed, and every tenth version also without a quarter of the keys (a big
/// record).
fn recipe(base: &Map, i: u64) -> Map {
    let version = base.insert(i % BASE, u64::MAX - i);
    if i % 10 == 9 { (0..BASE / 4).fold(version, |map, key| map.remove(&(key * 4 + i % 4))) } else { version }
}

/// A small deterministic generator (xorshift64*), so that the kill points repeat from run to run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % bound
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = env::temp_dir().join(format!("hamt-serde-crash-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

/// The writer child: continues the log from where it is, printing `appended i` after every append.
#[test]
#[ignore = "the writer process of killed_writers_never_lose_or_corrupt_records, which runs it"]
fn crash_writer() {
    let Some(path) = env::var_os(WRITER_LOG) else { return };
    let base = base();
    let mut log = VersionLog::<Map>::open(&path).expect("the writer opens its log");
    let start = log.len() as u64;
    for i in start..start + APPENDS_PER_WRITER {
        let index = log.append(&recipe(&base, i)).expect("append");
        assert_eq!(index as u64, i);
        if i % 7 == 0 {
            log.sync().expect("sync");
        }
        println!("appended {i}");
    }
}

/// The highest `appended i` in the writer's output.
fn last_reported(output: &str) -> Option<u64> {
    output.lines().filter_map(|line| line.strip_prefix("appended ")).filter_map(|i| i.trim().parse().ok()).max()
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn processes")]
fn killed_writers_never_lose_or_corrupt_records() {
    let dir = temp_dir("kill");
    let path = dir.join("versions.log");
    let base = base();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut verified = 0;
    let mut killed_mid_run = 0;
    for run in 0..40 {
        let mut child = Command::new(env::current_exe().expect("the test binary"))
            .args(["--exact", "crash_writer", "--ignored", "--nocapture", "--test-threads=1"])
            .env(WRITER_LOG, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawning the writer");
        let mut stdout = BufReader::new(child.stdout.take().expect("the writer's stdout"));
        let mut output = String::new();
        if rng.below(2) == 0 {
            // Kill after a random number of reported appends, and a random moment more.
            let lines = rng.below(APPENDS_PER_WRITER / 2);
            while last_reported(&output).map_or(0, |i| i + 1) < lines + verified as u64 {
                if stdout.read_line(&mut output).expect("reading the writer") == 0 {
                    break;
                }
            }
            thread::sleep(Duration::from_micros(rng.below(3_000)));
        } else {
            // Kill at a random moment, perhaps before the log is even open.
            thread::sleep(Duration::from_micros(rng.below(30_000)));
        }
        let _ = child.kill();
        let status = child.wait().expect("waiting for the writer");
        killed_mid_run += u32::from(!status.success());
        // Whatever the writer printed before it died is in the pipe.
        stdout.read_to_string(&mut output).expect("reading the writer");

        let log = VersionLog::<Map>::open(&path).unwrap_or_else(|error| panic!("run {run}: reopening: {error}"));
        if let Some(last) = last_reported(&output) {
            assert!(
                log.len() as u64 > last,
                "run {run}: version {last} was reported appended, the log has {}",
                log.len()
            );
        }
        assert!(log.len() >= verified, "run {run}: the log lost versions");
        for (i, version) in log.versions().iter().enumerate().skip(verified) {
            assert!(*version == recipe(&base, i as u64), "run {run}: version {i} is not what was appended");
            version.check_invariants();
        }
        verified = log.len();
    }
    println!("{killed_mid_run} of 40 writers killed before they finished; {verified} versions in the log");
    assert!(killed_mid_run > 20, "only {killed_mid_run} writers were killed before they finished");

    // The log takes appends after all those crashes, and a further reopen sees them.
    let mut log = VersionLog::<Map>::open(&path).expect("reopening");
    let next = log.len() as u64;
    log.append(&recipe(&base, next)).expect("appending after the crashes");
    log.sync().expect("sync");
    drop(log);
    let log = VersionLog::<Map>::open(&path).expect("reopening");
    assert_eq!(log.len() as u64, next + 1);
    assert!(log.versions().iter().enumerate().all(|(i, version)| *version == recipe(&base, i as u64)));
    fs::remove_dir_all(&dir).expect("cleaning up");
}

/// A log of a few versions of a small map, and the file length after its header and after each record.
fn small_log(path: &Path) -> (Vec<Map>, Vec<u64>) {
    let base: Map = (0..50).map(|key| (key, key)).collect();
    let versions = vec![
        base.clone(),
        base.insert(3, 0),
        base.insert(3, 0).remove(&4),
        base.insert(3, 0).remove(&4),
        Map::new(),
        base.insert(60, 1),
    ];
    let _ = fs::remove_file(path);
    let mut log = VersionLog::open(path).expect("a new log");
    let mut ends = vec![fs::metadata(path).expect("the log").len()];
    for version in &versions {
        log.append(version).expect("append");
        ends.push(fs::metadata(path).expect("the log").len());
    }
    (versions, ends)
}

fn open_copy(path: &Path, bytes: &[u8]) -> Result<VersionLog<Map>, LogError> {
    fs::write(path, bytes).expect("writing the damaged copy");
    VersionLog::open(path)
}

#[test]
#[cfg_attr(miri, ignore = "uses the file system, which Miri's isolation forbids")]
fn a_log_cut_at_any_byte_keeps_the_complete_records() {
    let dir = temp_dir("cut");
    let (versions, ends) = small_log(&dir.join("whole.log"));
    let bytes = fs::read(dir.join("whole.log")).expect("the log");
    let copy = dir.join("copy.log");
    for offset in 0..=bytes.len() as u64 {
        let log =
            open_copy(&copy, &bytes[..offset as usize]).unwrap_or_else(|error| panic!("cut at {offset}: {error}"));
        let complete = ends[1..].iter().filter(|&&end| end <= offset).count();
        let kept = if offset < ends[0] { 0 } else { ends[complete] };
        assert_eq!(log.versions(), &versions[..complete], "cut at {offset}");
        assert_eq!(log.cut_bytes(), offset - kept, "cut at {offset}");
        // The torn part is gone from the file (a torn header is rewritten whole).
        assert_eq!(fs::metadata(&copy).expect("the copy").len(), kept.max(ends[0]), "cut at {offset}");
        drop(log);
        if offset % 7 == 0 {
            // Appending continues after the last complete record.
            let mut log = VersionLog::<Map>::open(&copy).expect("reopening");
            log.append(&versions[0]).expect("appending after the cut");
            drop(log);
            let log = VersionLog::<Map>::open(&copy).expect("reopening");
            assert_eq!(log.len(), complete + 1, "cut at {offset}, then one append");
            assert_eq!(log.cut_bytes(), 0);
        }
    }
    fs::remove_dir_all(&dir).expect("cleaning up");
}

#[test]
#[cfg_attr(miri, ignore = "uses the file system, which Miri's isolation forbids")]
fn damage_in_the_last_record_cuts_only_that_record() {
    let dir = temp_dir("damage");
    let (versions, ends) = small_log(&dir.join("whole.log"));
    let bytes = fs::read(dir.join("whole.log")).expect("the log");
    let copy = dir.join("copy.log");
    let last = ends[ends.len() - 2];
    let mut rng = Rng(7);
    for position in last..bytes.len() as u64 {
        for flip in [0x01, 0x80, 1 + rng.below(255) as u8] {
            let mut damaged = bytes.clone();
            damaged[position as usize] ^= flip;
            let log = open_copy(&copy, &damaged).unwrap_or_else(|error| panic!("damage at {position}: {error}"));
            assert_eq!(log.versions(), &versions[..versions.len() - 1], "damage at {position}");
            assert_eq!(log.cut_bytes(), bytes.len() as u64 - last, "damage at {position}");
        }
    }
    fs::remove_dir_all(&dir).expect("cleaning up");
}

#[test]
#[cfg_attr(miri, ignore = "uses the file system, which Miri's isolation forbids")]
fn files_that_are_not_logs_of_this_kind_are_refused_and_kept() {
    let dir = temp_dir("foreign");
    let path = dir.join("other.txt");
    fs::write(&path, b"not a version log at all").expect("writing");
    assert!(matches!(VersionLog::<Map>::open(&path), Err(LogError::Decode(hamt_serde::DecodeError::BadMagic))));
    assert_eq!(fs::read(&path).expect("the file"), b"not a version log at all", "a foreign file is left alone");

    let path = dir.join("sets.log");
    let mut log = VersionLog::<hamt_core::HamtSet<u64>>::open(&path).expect("a log of sets");
    log.append(&[1, 2].into()).expect("append");
    drop(log);
    assert!(matches!(VersionLog::<Map>::open(&path), Err(LogError::Decode(hamt_serde::DecodeError::WrongKind { .. }))));

    // Damage in an earlier record that still checksums (the file was edited, not torn) is an error, not a cut.
    let path = dir.join("maps.log");
    let (_, ends) = small_log(&path);
    let bytes = fs::read(&path).expect("the log");
    // Replace record 1 by one that removes key 200 (a two-byte postcard varint), which its parent lacks, in a frame
    // whose checksum holds.
    let record = [1u8, 1, 0xc8, 0x01, 0];
    let mut frame = (record.len() as u64).to_le_bytes().to_vec();
    let mut checksum = crc32fast::Hasher::new();
    checksum.update(&frame);
    checksum.update(&record);
    frame.extend(checksum.finalize().to_le_bytes());
    frame.extend(record);
    let mut edited = bytes[..ends[1] as usize].to_vec();
    edited.extend(&frame);
    fs::write(&path, &edited).expect("writing");
    let result = VersionLog::<Map>::open(&path);
    assert!(matches!(result, Err(LogError::Decode(hamt_serde::DecodeError::AbsentKey { version: 1 }))), "{result:?}");
    fs::remove_dir_all(&dir).expect("cleaning up");
}

#[test]
#[cfg_attr(miri, ignore = "uses the file system, which Miri's isolation forbids")]
fn damage_before_a_good_record_is_an_error_not_a_cut() {
    let dir = temp_dir("middle");
    let (_, ends) = small_log(&dir.join("whole.log"));
    let bytes = fs::read(dir.join("whole.log")).expect("the log");
    let copy = dir.join("copy.log");
    // Every byte of every frame but the last, its length and checksum fields included: a crash cannot damage a
    // frame that a good one follows, so opening must fail, name the damaged frame and the good one after it, and
    // leave the file as it was. A damaged length field says nothing true about where the next frame starts, so
    // this holds only if the reader does not trust it.
    let mut rng = Rng(11);
    for pair in ends.windows(2).take(ends.len().saturating_sub(2)) {
        for position in pair[0]..pair[1] {
            for flip in [0x01, 0x20, 0x80, 1 + rng.below(255) as u8] {
                let mut damaged = bytes.clone();
                damaged[position as usize] ^= flip;
                let result = open_copy(&copy, &damaged);
                assert!(
                    matches!(result, Err(LogError::Damaged { offset, good_frame: Some(good) })
                        if offset == pair[0] && good == pair[1]),
                    "damage {flip:#04x} at {position} (frame {}..{}): {:?}",
                    pair[0],
                    pair[1],
                    result.map(|log| log.len())
                );
                assert_eq!(fs::read(&copy).expect("the copy"), damaged, "damage at {position} left the file alone");
            }
        }
    }
    fs::remove_dir_all(&dir).expect("cleaning up");
}

#[test]
#[cfg_attr(miri, ignore = "uses the file system, which Miri's isolation forbids")]
fn a_middle_frame_whose_length_claims_the_rest_of_the_file_is_damage() {
    // The length field of the first frame rewritten to say that the frame runs to the end of the file (and one byte
    // further): read naively, the file ends inside that frame, which looks exactly like a torn end, and every later
    // frame would be cut off.
    let dir = temp_dir("length");
    let (versions, ends) = small_log(&dir.join("whole.log"));
    let bytes = fs::read(dir.join("whole.log")).expect("the log");
    let copy = dir.join("copy.log");
    for claimed in [bytes.len() as u64 - ends[0] - 12, bytes.len() as u64, u64::MAX, 0] {
        let mut damaged = bytes.clone();
        damaged[ends[0] as usize..ends[0] as usize + 8].copy_from_slice(&claimed.to_le_bytes());
        let result = open_copy(&copy, &damaged);
        assert!(
            matches!(result, Err(LogError::Damaged { offset, good_frame: Some(good) }) if offset == ends[0] && good == ends[1]),
            "claimed {claimed}: {:?}",
            result.map(|log| log.len())
        );
        assert_eq!(fs::read(&copy).expect("the copy"), damaged, "claimed {claimed}: the file is left alone");
    }
    // The same damage in the last frame is a torn end: it is cut, and the versions before it are kept.
    let last = ends[ends.len() - 2] as usize;
    let mut torn = bytes.clone();
    torn[last..last + 8].copy_from_slice(&u64::MAX.to_le_bytes());
    let log = open_copy(&copy, &torn).expect("a torn end opens");
    assert_eq!(log.versions(), &versions[..versions.len() - 1]);
    fs::remove_dir_all(&dir).expect("cleaning up");
}

#[test]
#[cfg_attr(miri, ignore = "uses the file system, which Miri's isolation forbids")]
fn a_tail_too_costly_to_search_is_reported_as_damage_not_cut() {
    // After the good frames, 64 KiB in which every eighth offset reads as the head of a 32 KiB frame: checking each
    // one would cost the square of the tail's length. The search stops at its budget and reports damage, without
    // naming a good frame, rather than guess that the tail is torn and cut it.
    let dir = temp_dir("budget");
    let (_, ends) = small_log(&dir.join("whole.log"));
    let bytes = fs::read(dir.join("whole.log")).expect("the log");
    let mut crafted = bytes.clone();
    for _ in 0..8 * 1024 {
        crafted.extend(32_768u64.to_le_bytes());
    }
    let copy = dir.join("copy.log");
    let result = open_copy(&copy, &crafted);
    let end = *ends.last().expect("the end of the good frames");
    assert!(
        matches!(result, Err(LogError::Damaged { offset, good_frame: None }) if offset == end),
        "{:?}",
        result.map(|log| log.len())
    );
    assert_eq!(fs::read(&copy).expect("the copy"), crafted, "the file is left alone");
    fs::remove_dir_all(&dir).expect("cleaning up");
}
