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
    /// Where the line came from, for `%{stream}` in a path.
    pub stream: Stream,
}

/// Whole rendered records, each ending in `\n`, sent to the writer in one message, so
/// the queue costs one channel operation per read rather than per line.
#[derive(Debug, Default)]
pub struct Batch {
    pub text: Vec<u8>,
    pub records: Vec<RecordMeta>,
    /// The lines' own messages for the syslog sinks; left empty (no allocation) when
    /// there is none, so the file path pays nothing.
    pub raw: RawMessages,
}

impl Batch {
    pub fn with_capacity(bytes: usize) -> Batch {
        Batch {
            text: Vec::with_capacity(bytes),
            records: Vec::new(),
            raw: RawMessages::default(),
        }
    }

    /// Empties the batch, keeping its allocations.
    pub fn clear(&mut self) {
        self.text.clear();
        self.records.clear();
        self.raw.bytes.clear();
        self.raw.messages.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
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

/// What a syslog message is made of, beside its bytes: the header fields that come from
/// the line.
#[derive(Clone, Copy, Debug)]
pub struct MessageMeta {
    /// Offset just past this message in [`RawMessages::bytes`].
    pub end: usize,
    pub level: LevelId,
    pub time: Timestamp,
    pub seq: u64,
}

/// Messages as the lines carried them (not rendered by the pattern), one per syslog
/// message, shared read-only by every syslog sink.
#[derive(Debug, Default)]
pub struct RawMessages {
    pub bytes: Vec<u8>,
    pub messages: Vec<MessageMeta>,
}

impl RawMessages {
    pub fn push(&mut self, message: &[u8], level: LevelId, time: Timestamp, seq: u64) {
        self.bytes.extend_from_slice(message);
        self.messages.push(MessageMeta {
            end: self.bytes.len(),
            level,
            time,
            seq,
        });
    }

    pub fn len(&self) -> usize {
        self.messages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// Message `i`'s bytes and fields.
    pub fn get(&self, i: usize) -> (&[u8], &MessageMeta) {
        let meta = &self.messages[i];
        let start = match i {
            0 => 0,
            _ => self.messages[i - 1].end,
        };
        (&self.bytes[start..meta.end], meta)
    }
}
