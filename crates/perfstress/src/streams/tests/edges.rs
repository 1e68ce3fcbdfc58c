//! Exact lengths at the edges (up to 5 GiB, never allocated), the zero-copy
//! chunk path, and the small contracts: seeks, clones, the sink, random bytes.

use std::io::{Read, Seek, SeekFrom, Write};
use std::time::Instant;

use futures::StreamExt;

use super::{expected_bytes, ready};
use crate::streams::buffer::{RANDOM_BUFFER_LEN, random_buffer};
use crate::streams::{
    AsyncRandomStream, RandomStream, WriteStream, get_random_bytes, get_random_bytes_shared,
};

const BUF: u64 = RANDOM_BUFFER_LEN as u64;
const EDGE_LENGTHS: [u64; 7] = [0, 1, BUF - 1, BUF, BUF + 1, 2 * BUF, 2 * BUF + 1];
const FIVE_GIB: u64 = 5 << 30;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

#[test]
fn edge_lengths_read_exactly_and_match_the_buffer() {
    for length in EDGE_LENGTHS {
        let mut stream = RandomStream::new(length);
        let mut everything = Vec::new();
        stream.read_to_end(&mut everything).unwrap();
        assert_eq!(everything.len() as u64, length, "length {length}");
        assert!(
            everything == expected_bytes(0, length as usize),
            "length {length}"
        );
        assert_eq!((stream.remaining(), stream.position()), (0, length));

        stream.reset();
        let mut sink = WriteStream::new();
        assert_eq!(std::io::copy(&mut stream, &mut sink).unwrap(), length);
        assert_eq!(sink.written(), length);
    }
}

#[test]
fn edge_lengths_stream_chunks_concatenate_to_the_expected_bytes() {
    for length in EDGE_LENGTHS {
        for chunk_size in [RANDOM_BUFFER_LEN, 65_536, 1000, 1] {
            if chunk_size == 1 && length > 4096 {
                continue; // a million one-byte chunks prove nothing more
            }
            let mut stream = AsyncRandomStream::new(length).with_chunk_size(chunk_size);
            let (lower_bound, _) = futures::Stream::size_hint(&stream);
            let mut everything = Vec::new();
            let mut chunks = 0;
            while let Some(chunk) = ready(stream.next()) {
                let chunk = chunk.unwrap();
                assert!(!chunk.is_empty() && chunk.len() <= chunk_size);
                everything.extend_from_slice(&chunk);
                chunks += 1;
            }
            assert!(chunks >= lower_bound);
            assert_eq!(everything.len() as u64, length, "length {length}");
            assert!(
                everything == expected_bytes(0, length as usize),
                "length {length}"
            );
            assert!(ready(stream.next()).is_none(), "the stream stays finished");
        }
    }
}

#[test]
fn edge_lengths_async_copies_are_exact() {
    runtime().block_on(async {
        for length in EDGE_LENGTHS {
            let mut stream = AsyncRandomStream::new(length);
            let mut sink = WriteStream::new();
            assert_eq!(
                tokio::io::copy(&mut stream, &mut sink).await.unwrap(),
                length
            );
            stream.reset();
            assert_eq!(
                tokio::io::copy_buf(&mut stream, &mut sink).await.unwrap(),
                length
            );
            stream.reset();
            let mut everything = Vec::new();
            tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut everything)
                .await
                .unwrap();
            assert!(everything == expected_bytes(0, length as usize));
            assert_eq!(sink.written(), 2 * length);
        }
    });
}

#[test]
fn chunks_are_slices_of_the_shared_buffer() {
    let shared = random_buffer().as_ptr_range();
    let mut stream = AsyncRandomStream::new(3 * BUF + 12_345).with_chunk_size(100_000);
    while let Some(chunk) = ready(stream.next()) {
        let chunk = chunk.unwrap();
        let range = chunk.as_ptr_range();
        assert!(
            shared.start <= range.start && range.end <= shared.end,
            "chunk was copied"
        );
    }
    let other = AsyncRandomStream::new(10).next_chunk().unwrap();
    assert_eq!(other.as_ptr(), shared.start, "all streams share one buffer");
}

#[test]
fn five_gib_reads_to_the_exact_end_without_allocating_it() {
    let started = Instant::now();
    let mut stream = RandomStream::new(FIVE_GIB);
    let mut sink = WriteStream::new();
    assert_eq!(std::io::copy(&mut stream, &mut sink).unwrap(), FIVE_GIB);
    assert_eq!(sink.written(), FIVE_GIB);
    assert_eq!(stream.read(&mut [0; 8]).unwrap(), 0);

    runtime().block_on(async {
        // Zero-copy paths: BufRead-style copy and the Stream of chunks.
        let mut stream = AsyncRandomStream::new(FIVE_GIB + 1);
        let mut sink = WriteStream::new();
        assert_eq!(
            tokio::io::copy_buf(&mut stream, &mut sink).await.unwrap(),
            FIVE_GIB + 1
        );
        stream.reset();
        assert_eq!(sink.drain(stream).await.unwrap(), FIVE_GIB + 1);
        assert_eq!(sink.written(), 2 * (FIVE_GIB + 1));
    });
    // Well under this even in a debug build; a byte-at-a-time regression
    // would take minutes.
    assert!(
        started.elapsed().as_secs() < 60,
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn large_reads_fill_the_whole_destination_in_one_call() {
    let mut stream = RandomStream::new(FIVE_GIB);
    stream.seek(SeekFrom::Start(BUF - 3)).unwrap();
    let mut destination = vec![0; 3 * RANDOM_BUFFER_LEN];
    assert_eq!(stream.read(&mut destination).unwrap(), destination.len());
    assert!(destination == expected_bytes(BUF - 3, destination.len()));
}

#[test]
fn seeks_behave_like_a_file() {
    let mut stream = RandomStream::new(100);
    assert_eq!(stream.seek(SeekFrom::End(-10)).unwrap(), 90);
    assert_eq!(stream.remaining(), 10);
    assert_eq!(stream.seek(SeekFrom::End(50)).unwrap(), 150);
    assert_eq!(
        (stream.remaining(), stream.read(&mut [0; 4]).unwrap()),
        (0, 0)
    );
    let error = stream.seek(SeekFrom::Current(-151)).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    assert_eq!(stream.position(), 150, "a failed seek moves nothing");
    assert_eq!(stream.seek(SeekFrom::Current(-150)).unwrap(), 0);
    assert_eq!(stream.seek(SeekFrom::Start(u64::MAX)).unwrap(), u64::MAX);
    assert!(
        stream.seek(SeekFrom::Current(1)).is_err(),
        "overflow is an error"
    );
}

#[test]
fn clones_are_independent_and_debug_is_short() {
    let mut first = AsyncRandomStream::new(BUF);
    first.next_chunk();
    let mut second = first.clone();
    second.reset();
    assert_eq!((first.position(), second.position()), (BUF, 0));
    assert!(format!("{first:?}").len() < 100);
    assert!(format!("{:?}", RandomStream::new(5)).len() < 100);
    assert!(RandomStream::new(0).is_empty() && AsyncRandomStream::new(0).is_empty());
    // What BENCHMARKS.md states: a stream is a few words, whatever its length.
    if cfg!(target_pointer_width = "64") {
        assert_eq!(std::mem::size_of::<RandomStream>(), 32);
        assert_eq!(std::mem::size_of::<AsyncRandomStream>(), 56);
    }
}

#[test]
fn write_stream_counts_every_kind_of_write() {
    let mut sink = WriteStream::new();
    sink.write_all(&[1; 10]).unwrap();
    let slices = [
        std::io::IoSlice::new(&[0; 5]),
        std::io::IoSlice::new(&[0; 7]),
    ];
    assert_eq!(sink.write_vectored(&slices).unwrap(), 12);
    ready(tokio::io::AsyncWriteExt::write_all(&mut sink, &[0; 100])).unwrap();
    ready(futures::AsyncWriteExt::write_all(&mut sink, &[0; 1000])).unwrap();
    sink.flush().unwrap();
    assert_eq!(sink.written(), 1122);
    let chunks = futures::stream::iter([Ok(vec![0; 3]), Err("broken"), Ok(vec![0; 4])]);
    assert_eq!(ready(sink.drain(chunks)), Err("broken"));
    assert_eq!(sink.written(), 1122, "a failed drain counts nothing");
    sink.reset();
    assert_eq!(sink.written(), 0);
}

#[test]
fn random_bytes_have_the_asked_length_and_differ() {
    for n in [0, 1, 7, 4096, 10 * RANDOM_BUFFER_LEN + 3] {
        assert_eq!(get_random_bytes(n).len(), n);
    }
    assert_ne!(get_random_bytes(64), get_random_bytes(64));
    assert_eq!(get_random_bytes_shared(1000).len(), 1000);
    let bytes = get_random_bytes(1 << 16);
    let zeros = bytes.iter().filter(|&&byte| byte == 0).count();
    assert!(zeros < 1000, "random, not zeroed: {zeros} zeros in 64 KiB");
    assert_eq!(random_buffer().len(), RANDOM_BUFFER_LEN);
}
