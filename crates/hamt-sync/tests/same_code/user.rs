// A user program, included by tests/same_code.rs below a line `use hamt_core as hamt;` or `use hamt_sync as hamt;`.
// It names the crate only through `hamt`. (No `//!` comments: this file is included into a module.)

use std::collections::HashMap;

use hamt::prelude::*;
use hamt::{DiffItem, Entry, IntoIter, Iter, Keys, SetDiffItem, Values};

/// Word counts, with `new()` and the entry API, as std's docs write them.
pub(crate) fn counts(text: &str) -> HamtMap<String, usize> {
    let mut counts = HamtMap::new();
    for word in text.split(' ') {
        *counts.entry(word.to_string()).or_insert(0) += 1;
    }
    counts
}

/// A function that names the iterator types in its signature.
fn sorted_keys(keys: Keys<'_, String, usize>) -> Vec<&String> {
    let mut keys: Vec<&String> = keys.collect();
    keys.sort();
    keys
}

fn total(values: Values<'_, String, usize>) -> usize {
    values.sum()
}

fn bump(entry: Entry<'_, String, usize>) {
    match entry {
        Entry::Occupied(mut occupied) => *occupied.get_mut() += 1,
        Entry::Vacant(vacant) => {
            vacant.insert(1);
        }
    }
}

/// A struct holding maps, sets and iterators by their short names.
struct State<'a> {
    words: HamtMap<String, usize>,
    seen: HamtSet<u32>,
    cursor: Iter<'a, i32, &'static str>,
}

pub(crate) fn run() {
    let counts = counts("to be or not to be");
    assert_eq!(sorted_keys(counts.keys()), ["be", "not", "or", "to"]);
    assert_eq!(total(counts.values()), 6);

    let mut words = counts.clone();
    bump(words.entry("be".to_string()));
    bump(words.entry("question".to_string()));
    assert_eq!((words["be"], words["question"], counts["be"]), (3, 1, 2));

    // Persistent updates, from and the macros without annotations.
    let numbers = HamtMap::from([(1, "one"), (2, "two")]);
    let more = numbers.insert(3, "three").remove(&1);
    assert_eq!(more, hamt_map! { 2 => "two", 3 => "three" });
    let mut set = HamtSet::new();
    set.insert_mut(1u32);
    assert_eq!(set.insert(2), hamt_set![1, 2]);
    assert_eq!(HamtSet::from([1, 2]), hamt_set![2, 1]);

    // The diff and its items.
    let mut changes: Vec<DiffItem<'_, i32, &str>> = numbers.diff(&more).collect();
    changes.sort_by_key(|change| *change.key());
    assert_eq!(changes, [DiffItem::Removed(&1, &"one"), DiffItem::Added(&3, &"three")]);
    let with_five = set.insert(5);
    let set_changes: Vec<SetDiffItem<'_, u32>> = set.diff(&with_five).collect();
    assert_eq!(set_changes, [SetDiffItem::Added(&5)]);

    // Owning iteration, the set module's types, collect and std conversions.
    let owned: IntoIter<i32, &str> = more.clone().into_iter();
    let mut owned: Vec<(i32, &str)> = owned.collect();
    owned.sort();
    assert_eq!(owned, [(2, "two"), (3, "three")]);
    let elements: hamt::set::Iter<'_, u32> = set.iter();
    assert_eq!(elements.count(), 1);
    let from_std: HamtMap<&str, i32> = HashMap::from([("a", 1)]).into();
    let collected: HamtMap<&str, i32> = [("a", 1)].into_iter().collect();
    assert_eq!(from_std, collected);
    assert_eq!(hamt::HamtMap::<u8, u8>::default(), HamtMap::new());

    let state = State { words, seen: set, cursor: numbers.iter() };
    assert_eq!((state.words.len(), state.seen.len(), state.cursor.len()), (5, 1, 2));

    // serde, when the feature is on (hamt-sync's `serde` turns on hamt-core's).
    #[cfg(feature = "serde")]
    {
        let json = serde_json::to_string(&hamt_map! { "a" => 1 }).expect("a map serializes");
        assert_eq!(json, r#"{"a":1}"#);
        let back: HamtMap<String, i32> = serde_json::from_str(&json).expect("and deserializes");
        assert_eq!(back["a"], 1);
    }
}
