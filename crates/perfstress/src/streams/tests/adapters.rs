//! The feature adapters: each test runs only with its feature on
//! (`cargo test -p perfstress --all-features`).

#[cfg(feature = "http-body")]
#[test]
fn http_body_has_the_exact_size_and_the_expected_frames() {
    use http_body::Body;

    use super::{expected_bytes, ready};
    use crate::streams::AsyncRandomStream;

    let length = 2 * crate::streams::RANDOM_BUFFER_LEN as u64 + 5;
    let mut body = AsyncRandomStream::new(length);
    assert_eq!(body.size_hint().exact(), Some(length));
    let mut everything = Vec::new();
    while let Some(frame) = ready(std::future::poll_fn(|cx| {
        std::pin::Pin::new(&mut body).poll_frame(cx)
    })) {
        everything.extend_from_slice(frame.unwrap().data_ref().unwrap());
        assert_eq!(
            body.size_hint().exact(),
            Some(length - everything.len() as u64)
        );
    }
    assert!(body.is_end_stream());
    assert!(everything == expected_bytes(0, length as usize));
}

/// A loopback server that reads one request and answers 200: checks that
/// reqwest sends `Content-Length` (not chunked) and every byte.
#[cfg(feature = "reqwest")]
#[test]
fn reqwest_body_is_sent_with_content_length() {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

    use crate::streams::{AsyncRandomStream, WriteStream};

    let length: u64 = 3 * 1024 * 1024 + 1;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (socket, _) = listener.accept().await.unwrap();
            let mut reader = BufReader::new(socket);
            let mut headers = Vec::new();
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).await.unwrap();
                if line == "\r\n" {
                    break;
                }
                headers.push(line.trim_end().to_ascii_lowercase());
            }
            let mut sink = WriteStream::new();
            let mut body = (&mut reader).take(length);
            tokio::io::copy(&mut body, &mut sink).await.unwrap();
            let mut socket = reader.into_inner();
            socket
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                .await
                .unwrap();
            (headers, sink.written())
        });
        let response = reqwest::Client::new()
            .put(format!("http://{address}/blob"))
            .body(reqwest::Body::from(AsyncRandomStream::new(length)))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let (headers, received) = server.await.unwrap();
        assert!(
            headers.contains(&format!("content-length: {length}")),
            "{headers:?}"
        );
        assert!(
            !headers
                .iter()
                .any(|header| header.starts_with("transfer-encoding"))
        );
        assert_eq!(received, length);
    });
}

#[cfg(feature = "azure_core")]
#[test]
fn azure_core_takes_the_stream_as_a_seekable_body() {
    use azure_core::http::{Body, RequestContent};
    use azure_core::stream::SeekableStream;
    use futures::StreamExt;

    use super::{expected_bytes, ready};
    use crate::streams::AsyncRandomStream;

    let length = crate::streams::RANDOM_BUFFER_LEN as u64 + 3;
    let body = Body::from(AsyncRandomStream::new(length));
    assert_eq!(body.len(), Some(length));
    let content: RequestContent<bytes::Bytes> = AsyncRandomStream::new(length).into();
    let Body::SeekableStream(mut stream) = Body::from(content) else {
        panic!("expected a seekable stream body");
    };
    // Read it the way azure_core's transports do, twice, with a reset between.
    for _ in 0..2 {
        let mut everything = Vec::new();
        while let Some(chunk) = ready(stream.next()) {
            everything.extend_from_slice(&chunk.unwrap());
        }
        assert!(everything == expected_bytes(0, length as usize));
        ready(stream.reset()).unwrap();
    }
    assert_eq!(SeekableStream::len(&*stream), Some(length));
}
