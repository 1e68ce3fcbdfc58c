//! Property tests: random sequences of reads (of every size, 0 included),
//! seeks (all three kinds, past the end and before the start), fill/consume
//! and resets, checked against a model that is just a position and a length.

use std::io::{BufRead, Read, Seek, SeekFrom};

use futures::StreamExt;
use proptest::prelude::*;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncSeekExt};

use super::{expected_bytes, ready};
use crate::streams::buffer::RANDOM_BUFFER_LEN;
use crate::streams::{AsyncRandomStream, RandomStream};

const BUF: u64 = RANDOM_BUFFER_LEN as u64;

/// The model: where the stream should be. Seeks use i128 so the model's
/// arithmetic cannot share a bug with the stream's checked arithmetic.
#[derive(Debug)]
struct Model {
    length: u64,
    position: u64,
}

impl Model {
    fn remaining(&self) -> u64 {
        self.length.saturating_sub(self.position)
    }

    /// The new position, or None for a seek the stream must reject.
    fn seek(&mut self, target: SeekFrom) -> Option<u64> {
        let new_position = match target {
            SeekFrom::Start(offset) => offset as i128,
            SeekFrom::Current(delta) => self.position as i128 + delta as i128,
            SeekFrom::End(delta) => self.length as i128 + delta as i128,
        };
        let new_position = u64::try_from(new_position).ok()?;
        self.position = new_position;
        Some(new_position)
    }

    /// How much a read of `requested` bytes returns (our reads fill as
    /// much as they can), and the bytes.
    fn read(&mut self, requested: usize) -> Vec<u8> {
        let len = (requested as u64).min(self.remaining()) as usize;
        let bytes = expected_bytes(self.position, len);
        self.position += len as u64;
        bytes
    }

    /// What `fill_buf` offers: up to the end of the buffer's current lap.
    fn available(&self) -> usize {
        (BUF - self.position % BUF).min(self.remaining()) as usize
    }
}

#[derive(Clone, Debug)]
enum Operation {
    Read(usize),
    Seek(SeekFrom),
    /// `fill_buf`, then consume this fraction (per mille) of what it offered.
    FillConsume(u16),
    /// Async only: one `Stream` chunk (sync: a read of one chunk size).
    NextChunk,
    Reset,
}

fn length() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0),
        Just(1),
        Just(BUF - 1),
        Just(BUF),
        Just(BUF + 1),
        0..4096u64,
        0..3 * BUF,
        // Lengths past 4 GiB: positions no longer fit in 32 bits.
        (5u64 << 30)..(5u64 << 30) + 3 * BUF,
    ]
}

fn offset() -> impl Strategy<Value = u64> {
    prop_oneof![
        0..4096u64,
        0..4 * BUF,
        (BUF - 8)..(BUF + 8),
        (5u64 << 30) - 16..(5u64 << 30) + 3 * BUF,
        Just(u64::MAX),
    ]
}

fn delta() -> impl Strategy<Value = i64> {
    prop_oneof![
        -4096..4096i64,
        -4 * BUF as i64..4 * BUF as i64,
        -(6i64 << 30)..(6i64 << 30),
        Just(i64::MIN),
        Just(i64::MAX),
    ]
}

fn operation() -> impl Strategy<Value = Operation> {
    prop_oneof![
        4 => prop_oneof![Just(0usize), 1..64usize, 1..70_000usize].prop_map(Operation::Read),
        // Large reads cross the buffer's end; rarer because the model is slow.
        1 => (BUF as usize - 10..2 * BUF as usize + 10).prop_map(Operation::Read),
        2 => offset().prop_map(|offset| Operation::Seek(SeekFrom::Start(offset))),
        2 => delta().prop_map(|delta| Operation::Seek(SeekFrom::Current(delta))),
        2 => delta().prop_map(|delta| Operation::Seek(SeekFrom::End(delta))),
        2 => (0..=1000u16).prop_map(Operation::FillConsume),
        2 => Just(Operation::NextChunk),
        1 => Just(Operation::Reset),
    ]
}

fn check_sync(length: u64, operations: &[Operation]) -> Result<(), TestCaseError> {
    let mut stream = RandomStream::new(length);
    let mut model = Model {
        length,
        position: 0,
    };
    for operation in operations {
        match operation {
            Operation::Read(requested) => {
                let mut destination = vec![0xA5; *requested];
                let read = stream.read(&mut destination).unwrap();
                let expected = model.read(*requested);
                prop_assert_eq!(read, expected.len());
                prop_assert!(destination[..read] == expected[..], "bytes differ");
            }
            Operation::Seek(target) => {
                let before = stream.position();
                match (stream.seek(*target), model.seek(*target)) {
                    (Ok(actual), Some(expected)) => prop_assert_eq!(actual, expected),
                    (Err(error), None) => {
                        prop_assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
                        prop_assert_eq!(stream.position(), before);
                    }
                    (actual, expected) => {
                        prop_assert!(false, "seek {target:?}: got {actual:?}, model {expected:?}")
                    }
                }
            }
            Operation::FillConsume(per_mille) => {
                let offered = stream.fill_buf().unwrap().to_vec();
                prop_assert_eq!(offered.len(), model.available());
                let consumed = offered.len() * *per_mille as usize / 1000;
                prop_assert!(
                    offered[..consumed] == model.read(consumed)[..],
                    "bytes differ"
                );
                stream.consume(consumed);
            }
            Operation::NextChunk => {
                let mut destination = vec![0; RANDOM_BUFFER_LEN];
                let read = stream.read(&mut destination).unwrap();
                prop_assert!(destination[..read] == model.read(RANDOM_BUFFER_LEN)[..]);
            }
            Operation::Reset => {
                stream.reset();
                model.position = 0;
            }
        }
        prop_assert_eq!(stream.position(), model.position);
        prop_assert_eq!(stream.stream_position().unwrap(), model.position);
        prop_assert_eq!(stream.remaining(), model.remaining());
        prop_assert_eq!(stream.len(), length);
    }
    Ok(())
}

fn check_async(
    length: u64,
    chunk_size: usize,
    operations: &[Operation],
) -> Result<(), TestCaseError> {
    let mut stream = AsyncRandomStream::new(length).with_chunk_size(chunk_size);
    let mut model = Model {
        length,
        position: 0,
    };
    // Alternate between the tokio and the futures-io traits, so both are
    // driven through the same sequences.
    for (index, operation) in operations.iter().enumerate() {
        let use_tokio = index % 2 == 0;
        match operation {
            Operation::Read(requested) => {
                let mut destination = vec![0xA5; *requested];
                let read = if use_tokio {
                    ready(AsyncReadExt::read(&mut stream, &mut destination)).unwrap()
                } else {
                    ready(futures::AsyncReadExt::read(&mut stream, &mut destination)).unwrap()
                };
                let expected = model.read(*requested);
                prop_assert_eq!(read, expected.len());
                prop_assert!(destination[..read] == expected[..], "bytes differ");
            }
            Operation::Seek(target) => {
                let before = stream.position();
                let actual = if use_tokio {
                    ready(AsyncSeekExt::seek(&mut stream, *target))
                } else {
                    ready(futures::AsyncSeekExt::seek(&mut stream, *target))
                };
                match (actual, model.seek(*target)) {
                    (Ok(actual), Some(expected)) => prop_assert_eq!(actual, expected),
                    (Err(error), None) => {
                        prop_assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
                        prop_assert_eq!(stream.position(), before);
                    }
                    (actual, expected) => {
                        prop_assert!(false, "seek {target:?}: got {actual:?}, model {expected:?}")
                    }
                }
            }
            Operation::FillConsume(per_mille) => {
                let offered = if use_tokio {
                    ready(AsyncBufReadExt::fill_buf(&mut stream))
                        .unwrap()
                        .to_vec()
                } else {
                    ready(futures::AsyncBufReadExt::fill_buf(&mut stream))
                        .unwrap()
                        .to_vec()
                };
                prop_assert_eq!(offered.len(), model.available());
                let consumed = offered.len() * *per_mille as usize / 1000;
                prop_assert!(
                    offered[..consumed] == model.read(consumed)[..],
                    "bytes differ"
                );
                if use_tokio {
                    AsyncBufReadExt::consume(&mut stream, consumed);
                } else {
                    futures::AsyncBufReadExt::consume_unpin(&mut stream, consumed);
                }
            }
            Operation::NextChunk => {
                let expected_len = model.available().min(chunk_size);
                match ready(stream.next()) {
                    Some(chunk) => {
                        let chunk = chunk.unwrap();
                        prop_assert!(expected_len > 0);
                        prop_assert!(chunk[..] == model.read(expected_len)[..], "bytes differ");
                    }
                    None => prop_assert_eq!(expected_len, 0),
                }
            }
            Operation::Reset => {
                stream.reset();
                model.position = 0;
            }
        }
        prop_assert_eq!(stream.position(), model.position);
        prop_assert_eq!(stream.remaining(), model.remaining());
        prop_assert_eq!(stream.len(), length);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_stream_matches_model(
        length in length(),
        operations in prop::collection::vec(operation(), 1..24),
    ) {
        check_sync(length, &operations)?;
    }

    #[test]
    fn async_random_stream_matches_model(
        length in length(),
        chunk_size in prop_oneof![Just(RANDOM_BUFFER_LEN), 1..5000usize, Just(65_536usize)],
        operations in prop::collection::vec(operation(), 1..24),
    ) {
        check_async(length, chunk_size, &operations)?;
    }
}
