//! The files under `--data-dir`: their names, and which of them a start reads.
//!
//! ```text
//!  DIR/LOCK                       held (flock) by the running instance, its pid inside
//!  DIR/g<gen>-s<i>-of-<n>-<seq>.log   shard i's journal files (of n shards), in seq order
//!  DIR/g<gen>.done                a re-layout for a new shard count completed
//! ```
//!
//! A generation is one layout (one shard count). A start with another `-t` writes the
//! next generation (each shard its live items), marks it done once every shard has synced
//! its files, then removes the old one; a start finds the newest generation that is done
//! (or the oldest present) and removes the rest.

use std::path::{Path, PathBuf};

/// A journal file's place in the layout, from its name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct JournalFile {
    pub gen: u64,
    /// The shard that wrote it, of `of`.
    pub shard: usize,
    pub of: usize,
    pub seq: u64,
    pub path: PathBuf,
}

/// The file name of shard `shard` of `of`'s file `seq` in generation `gen`.
pub fn journal_name(gen: u64, shard: usize, of: usize, seq: u64) -> String {
    format!("g{gen}-s{shard}-of-{of}-{seq:06}.log")
}

/// The marker of a completed generation.
pub fn done_name(gen: u64) -> String {
    format!("g{gen}.done")
}

/// Parses [`journal_name`]'s format.
pub fn parse_journal_name(name: &str) -> Option<(u64, usize, usize, u64)> {
    let rest = name.strip_prefix('g')?.strip_suffix(".log")?;
    let (gen, rest) = rest.split_once("-s")?;
    let (shard, rest) = rest.split_once("-of-")?;
    let (of, seq) = rest.split_once('-')?;
    Some((
        gen.parse().ok()?,
        shard.parse().ok()?,
        of.parse().ok()?,
        seq.parse().ok()?,
    ))
}

fn parse_done_name(name: &str) -> Option<u64> {
    name.strip_prefix('g')?.strip_suffix(".done")?.parse().ok()
}

/// A shard's files of one generation in DIR: path, seq and size.
pub fn shard_files(
    dir: &Path,
    gen: u64,
    shard: usize,
    of: usize,
) -> std::io::Result<Vec<(PathBuf, u64, u64)>> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir)?.flatten() {
        let name = e.file_name();
        let Some((g, s, o, seq)) = name.to_str().and_then(parse_journal_name) else {
            continue;
        };
        if (g, s, o) == (gen, shard, of) {
            let size = e.metadata().map_or(0, |m| m.len());
            v.push((e.path(), seq, size));
        }
    }
    Ok(v)
}

/// What a start reads and writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The generation read; its files, by shard then seq.
    pub gen: u64,
    pub files: Vec<JournalFile>,
    /// The shard count that wrote it (0 when there is nothing to read).
    pub written_by: usize,
    /// The generation this start writes: `gen`, or the next one when the shard count
    /// changed.
    pub write_gen: u64,
    /// Files of other generations, left by an interrupted re-layout: removed at start.
    pub stale: Vec<PathBuf>,
}

impl Layout {
    /// Whether this start rewrites the items for a new shard count.
    pub fn relayout(&self) -> bool {
        self.write_gen != self.gen
    }

    /// The files shard `shard` of `shards` reads: its own, or with a new shard count,
    /// every file of the generation (it keeps the keys it owns).
    pub fn files_for(&self, shard: usize) -> Vec<&JournalFile> {
        self.files
            .iter()
            .filter(|f| self.relayout() || f.shard == shard)
            .collect()
    }

    /// The seq shard `shard`'s next file takes in `write_gen`.
    pub fn next_seq(&self, shard: usize) -> u64 {
        if self.relayout() {
            return 1;
        }
        self.files
            .iter()
            .filter(|f| f.shard == shard)
            .map(|f| f.seq + 1)
            .max()
            .unwrap_or(1)
    }
}

/// Decides the layout from the names in DIR, for `shards` shards.
pub fn plan(names: &[String], dir: &Path, shards: usize) -> Layout {
    let mut files: Vec<JournalFile> = names
        .iter()
        .filter_map(|n| {
            let (gen, shard, of, seq) = parse_journal_name(n)?;
            Some(JournalFile {
                gen,
                shard,
                of,
                seq,
                path: dir.join(n),
            })
        })
        .collect();
    let done: Vec<u64> = names.iter().filter_map(|n| parse_done_name(n)).collect();
    let oldest = files.iter().map(|f| f.gen).min();
    // The newest generation that completed: marked done, or the oldest (the first layout
    // needs no mark).
    let gen = files
        .iter()
        .map(|f| f.gen)
        .filter(|g| Some(*g) == oldest || done.contains(g))
        .max()
        .unwrap_or(1);
    let mut stale: Vec<PathBuf> = files
        .iter()
        .filter(|f| f.gen != gen)
        .map(|f| f.path.clone())
        .collect();
    stale.extend(
        done.iter()
            .filter(|&&g| g < gen)
            .map(|&g| dir.join(done_name(g))),
    );
    files.retain(|f| f.gen == gen);
    files.sort_by_key(|f| (f.shard, f.seq));
    // Files of one generation share a shard count; a mix (hand-made) reads as a re-layout.
    let written_by = files.first().map_or(0, |f| f.of);
    let same = files.iter().all(|f| f.of == shards);
    Layout {
        gen,
        files,
        written_by,
        write_gen: if same { gen } else { gen + 1 },
        stale,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn names_round_trip() {
        let n = journal_name(3, 1, 2, 17);
        assert_eq!(n, "g3-s1-of-2-000017.log");
        assert_eq!(parse_journal_name(&n), Some((3, 1, 2, 17)));
        for bad in [
            "g3-s1-of-2.log",
            "x3-s1-of-2-1.log",
            "g3-s1-of-2-1.tmp",
            "LOCK",
        ] {
            assert_eq!(parse_journal_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_start_reads_the_newest_completed_generation() {
        let d = Path::new("/d");
        // Empty: generation 1, nothing to read.
        let l = plan(&[], d, 2);
        assert_eq!((l.gen, l.write_gen, l.files.len()), (1, 1, 0));
        // Same shard count: each shard its own files, the next seq after its last.
        let l = plan(
            &names(&[
                "g1-s0-of-2-000001.log",
                "g1-s1-of-2-000001.log",
                "g1-s0-of-2-000002.log",
                "LOCK",
            ]),
            d,
            2,
        );
        assert!(!l.relayout());
        assert_eq!(l.files_for(0).len(), 2);
        assert_eq!(l.files_for(1).len(), 1);
        assert_eq!((l.next_seq(0), l.next_seq(1)), (3, 2));
        // Another shard count: every shard reads every file and writes generation 2.
        let l = plan(
            &names(&["g1-s0-of-2-000001.log", "g1-s1-of-2-000001.log"]),
            d,
            3,
        );
        assert!(l.relayout());
        assert_eq!((l.gen, l.write_gen, l.written_by), (1, 2, 2));
        assert_eq!(l.files_for(2).len(), 2);
        // An interrupted re-layout (no mark): the old generation, the new one's files go.
        let l = plan(
            &names(&["g1-s0-of-2-000001.log", "g2-s0-of-3-000001.log"]),
            d,
            3,
        );
        assert_eq!(l.gen, 1);
        assert_eq!(l.stale, vec![d.join("g2-s0-of-3-000001.log")]);
        // A completed one: the new generation, the old files go.
        let l = plan(
            &names(&["g1-s0-of-2-000001.log", "g2-s0-of-3-000001.log", "g2.done"]),
            d,
            3,
        );
        assert_eq!((l.gen, l.write_gen), (2, 2));
        assert_eq!(l.stale, vec![d.join("g1-s0-of-2-000001.log")]);
    }
}
