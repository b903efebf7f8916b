//! What flows from input to writer: lines, and batches of rendered records.

use jiff::Timestamp;

use crate::level::LevelId;

/// Where a line came from (`%{stream}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdin,
    Arg,
    Stdout,
    Stderr,
}

/// One line as it reached rlog, before rendering.
#[derive(Clone, Copy, Debug)]
pub struct Line<'a> {
    /// The line's bytes, without its newline.
    pub message: &'a [u8],
    /// When the line's first byte arrived.
    pub time: Timestamp,
    pub level: LevelId,
    /// The line's number in this run, from 1.
    pub seq: u64,
    pub stream: Stream,
}

/// What the writer needs to route one rendered record.
#[derive(Clone, Copy, Debug)]
pub struct RecordMeta {
    /// Offset just past this record's newline in [`Batch::text`].
    pub end: usize,
    pub level: LevelId,
    pub time: Timestamp,
}

/// Whole rendered records, each ending in `\n`, sent to the writer in one message, so
/// the queue costs one channel operation per read rather than per line.
#[derive(Debug, Default)]
pub struct Batch {
    pub text: Vec<u8>,
    pub records: Vec<RecordMeta>,
}

impl Batch {
    pub fn with_capacity(bytes: usize) -> Batch {
        Batch {
            text: Vec::with_capacity(bytes),
            records: Vec::new(),
        }
    }

    /// Empties the batch, keeping its allocations.
    pub fn clear(&mut self) {
        self.text.clear();
        self.records.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Each record's bytes (newline included) with its metadata.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &RecordMeta)> {
        let mut start = 0;
        self.records.iter().map(move |meta| {
            let bytes = &self.text[start..meta.end];
            start = meta.end;
            (bytes, meta)
        })
    }
}
