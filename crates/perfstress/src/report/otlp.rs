//! `--otlp-endpoint URL`: the run over time as OpenTelemetry metrics, sent
//! over OTLP/HTTP (protobuf) once per status interval, from the same
//! interval records the timeline is written from (see `timeline.rs`).
//!
//! The names follow the Azure SDK stress tests (the Java stress template's
//! `test.run.duration` and its `scenario_name` / `error.type` attributes;
//! OpenTelemetry's semantic conventions for the process metrics), so a
//! stress cluster's collector and dashboards pick them up:
//!
//! | metric | kind | unit | value |
//! |---|---|---|---|
//! | `test.run.operations` | counter | `{operation}` | operations since the phase started (with `--iterations`: since the first iteration's started) |
//! | `test.run.operations.rate` | gauge | `{operation}/s` | the interval's operations per second |
//! | `test.run.errors` | counter | `{error}` | failed operations since the phase started (likewise), per `error.type` (error group) |
//! | `test.run.duration.quantile` | gauge | `s` | the interval's latency, per `quantile` (`0.5`, `0.9`, `0.99`, `1` = max) |
//! | `process.cpu.utilization` | gauge | `1` | CPU of every process in the interval, in cores |
//! | `process.memory.usage` | gauge | `By` | resident memory of every process |
//!
//! Every point has `scenario_name` (the test's name) and `phase` (`warmup`
//! or `run`). With `--iterations N` the counters go on across iterations
//! (the timeline's totals restart at each): one series per phase that only
//! grows, so a dashboard's `rate()`/`increase()` over it is the run's
//! throughput with no reset at an iteration's start, and no `iteration`
//! attribute multiplies the series a dashboard would have to add up again
//! (the Azure SDK stress dashboards group by `scenario_name` only). Exports run on a thread of their own, fed through a bounded
//! queue that the reporter never waits on: a slow or unreachable collector
//! never holds up the run; each export is bounded by a timeout, and what
//! was not exported is reported as a warning at the end of the run.

#[cfg(feature = "otlp")]
pub(crate) use exporter::OtlpMetrics;

#[cfg(feature = "otlp")]
mod exporter {
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
    use std::sync::{Arc, Mutex, PoisonError};
    use std::time::{Duration, Instant};

    use opentelemetry::KeyValue;
    use opentelemetry::metrics::MeterProvider as _;
    use opentelemetry_otlp::{Protocol, WithExportConfig};
    use opentelemetry_sdk::Resource;
    use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
    use opentelemetry_sdk::metrics::data::ResourceMetrics;
    use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
    use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};

    use crate::error::Error;
    use crate::metrics::{IntervalRecord, RunSummary};
    use crate::phase::Phase;
    use crate::redact::{redact_text, redact_url};
    use crate::report::reporter::Reporter;

    /// The longest one export may take (connecting included).
    const EXPORT_TIMEOUT: Duration = Duration::from_secs(3);
    /// Intervals waiting for export at most; more are dropped (and counted).
    const QUEUE: usize = 32;
    /// How long the end of the run waits for the exports still queued.
    const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

    /// What one interval exports: the plain numbers of its record.
    #[derive(Clone, Debug, Default)]
    struct Point {
        phase: &'static str,
        total_operations: u64,
        operations_per_second: Option<f64>,
        /// Failed operations since the phase started, by group.
        errors: BTreeMap<String, u64>,
        /// p50, p90, p99, max in seconds.
        latency: Option<[f64; 4]>,
        cpu_cores: Option<f64>,
        rss_bytes: Option<u64>,
    }

    enum Message {
        Interval(Box<Point>),
        Finish,
    }

    /// What the export thread reports when it is done.
    #[derive(Debug, Default)]
    struct Done {
        exported: u64,
        failed: u64,
    }

    /// The `--otlp-endpoint` reporter.
    pub(crate) struct OtlpMetrics {
        url: String,
        queue: Option<SyncSender<Message>>,
        done: Option<Receiver<Done>>,
        /// The counters of the warm-up and of the timed run.
        counters: [PhaseCounters; 2],
        intervals: u64,
        dropped: u64,
    }

    impl std::fmt::Debug for OtlpMetrics {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("OtlpMetrics")
                .field("url", &redact_url(&self.url))
                .finish_non_exhaustive()
        }
    }

    impl OtlpMetrics {
        /// The reporter exporting to `url` (see [`super::metrics_url`]),
        /// the points named after test `test`. Its export thread starts
        /// now.
        pub(crate) fn new(url: String, test: &str) -> Self {
            let (queue, receiver) = mpsc::sync_channel(QUEUE);
            let (done_sender, done) = mpsc::channel();
            let thread_url = url.clone();
            let scenario = test.to_owned();
            let spawned = std::thread::Builder::new()
                .name("perfstress-otlp".to_owned())
                .spawn(move || {
                    let done = export_loop(&thread_url, scenario, &receiver);
                    let _ = done_sender.send(done);
                });
            let (queue, done) = match spawned {
                Ok(_) => (Some(queue), Some(done)),
                Err(error) => {
                    warn(&url, &format!("cannot start the export thread: {error}"));
                    (None, None)
                }
            };
            Self {
                url,
                queue,
                done,
                counters: Default::default(),
                intervals: 0,
                dropped: 0,
            }
        }
    }

    fn warn(url: &str, text: &str) {
        eprintln!(
            "{}",
            redact_text(&format!(
                "warning: --otlp-endpoint {}: {text}",
                redact_url(url)
            ))
        );
    }

    /// A phase's cumulative counters. With `--iterations`, each iteration's
    /// intervals count from 0 again (a new segment of the phase); the
    /// counters carry the earlier segments' totals, so they only grow, as
    /// a cumulative OTLP counter must (a collector takes a drop for a
    /// restart of the process).
    #[derive(Debug, Default)]
    struct PhaseCounters {
        /// Operations of the earlier segments.
        carried_operations: u64,
        /// Operations of the current segment so far.
        operations: u64,
        /// Errors by group, every segment's so far (the records carry the
        /// interval's).
        errors: BTreeMap<String, u64>,
    }

    impl PhaseCounters {
        /// Adds `record`'s interval; returns the operations so far.
        fn add(&mut self, record: &IntervalRecord) -> u64 {
            if record.index == 0 {
                self.carried_operations += std::mem::take(&mut self.operations);
            }
            self.operations = record.total_operations;
            for (group, count) in &record.errors {
                *self.errors.entry(group.clone()).or_default() += count;
            }
            self.carried_operations + self.operations
        }
    }

    impl Reporter for OtlpMetrics {
        fn interval(&mut self, record: &IntervalRecord) {
            let counters = &mut self.counters[usize::from(record.phase != Phase::Warmup)];
            let total_operations = counters.add(record);
            let seconds = |duration: Duration| duration.as_secs_f64();
            let point = Point {
                phase: match record.phase {
                    Phase::Warmup => "warmup",
                    _ => "run",
                },
                total_operations,
                operations_per_second: record.operations_per_second,
                errors: counters.errors.clone(),
                latency: record.latency.map(|latency| {
                    [
                        seconds(latency.p50),
                        seconds(latency.p90),
                        seconds(latency.p99),
                        seconds(latency.max),
                    ]
                }),
                cpu_cores: record.cpu_percent.map(|percent| percent / 100.0),
                rss_bytes: record.rss_bytes,
            };
            self.intervals += 1;
            // Never waits: a full queue (a collector slower than the
            // intervals) drops the interval, counted for the warning.
            match self
                .queue
                .as_ref()
                .map(|queue| queue.try_send(Message::Interval(Box::new(point))))
            {
                Some(Ok(())) => {}
                Some(Err(TrySendError::Full(_))) | None => self.dropped += 1,
                Some(Err(TrySendError::Disconnected(_))) => {
                    self.dropped += 1;
                    self.queue = None;
                }
            }
        }

        fn run_summary(&mut self, _summary: &RunSummary<'_>) -> Result<(), Error> {
            self.finish();
            Ok(())
        }
    }

    impl OtlpMetrics {
        /// Stops the export thread (after the queued exports, waiting
        /// [`DRAIN_TIMEOUT`] at most) and warns about what was not exported.
        fn finish(&mut self) {
            let queue = self.queue.take();
            let done = match (queue, self.done.take()) {
                (Some(queue), Some(done)) => {
                    let deadline = Instant::now() + DRAIN_TIMEOUT;
                    // The queue may be full: retry until the deadline.
                    let mut message = Message::Finish;
                    loop {
                        match queue.try_send(message) {
                            Ok(()) => break,
                            Err(TrySendError::Full(back)) if Instant::now() < deadline => {
                                message = back;
                                std::thread::sleep(Duration::from_millis(10));
                            }
                            Err(_) => break,
                        }
                    }
                    done.recv_timeout(deadline.saturating_duration_since(Instant::now()))
                        .ok()
                }
                _ => None,
            };
            let exported = done.as_ref().map_or(0, |done| done.exported);
            let missing = self.intervals.saturating_sub(exported);
            if missing > 0 {
                let failed = done.as_ref().map_or(0, |done| done.failed);
                warn(
                    &self.url,
                    &format!(
                        "{missing} of {} status intervals were not exported ({failed} failed, {} dropped while the collector was slow{})",
                        self.intervals,
                        self.dropped,
                        if done.is_none() {
                            ", the rest still queued at the end of the run"
                        } else {
                            ""
                        }
                    ),
                );
            }
        }
    }

    impl Drop for OtlpMetrics {
        fn drop(&mut self) {
            // A run that ends without a summary: stop the thread, without
            // waiting for it.
            if let Some(queue) = self.queue.take() {
                let _ = queue.try_send(Message::Finish);
            }
        }
    }

    /// The state the instruments' callbacks read at each export.
    type Current = Arc<Mutex<Option<Point>>>;

    /// The OTLP exporter, closed once the run is over so that the meter
    /// provider's own export at shutdown sends nothing (one export per
    /// interval, no duplicate of the last); its last error kept for the
    /// warning.
    #[derive(Debug)]
    struct Closable {
        inner: opentelemetry_otlp::MetricExporter,
        closed: Arc<AtomicBool>,
        last_error: Arc<Mutex<Option<String>>>,
    }

    impl PushMetricExporter for Closable {
        async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
            if self.closed.load(Ordering::Acquire) {
                return Ok(());
            }
            let result = self.inner.export(metrics).await;
            if let Err(error) = &result {
                *self
                    .last_error
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = Some(error.to_string());
            }
            result
        }

        fn force_flush(&self) -> OTelSdkResult {
            self.inner.force_flush()
        }

        fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
            self.inner.shutdown_with_timeout(timeout)
        }

        fn temporality(&self) -> Temporality {
            self.inner.temporality()
        }
    }

    /// The export thread: builds the exporter and the instruments, then
    /// exports once per interval received until `Finish`.
    fn export_loop(url: &str, scenario: String, receiver: &Receiver<Message>) -> Done {
        let mut done = Done::default();
        let inner = match opentelemetry_otlp::MetricExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(url)
            .with_timeout(EXPORT_TIMEOUT)
            .build()
        {
            Ok(exporter) => exporter,
            Err(error) => {
                warn(url, &format!("cannot make the exporter: {error}"));
                return done;
            }
        };
        let closed = Arc::new(AtomicBool::new(false));
        let last_error = Arc::new(Mutex::new(None));
        let exporter = Closable {
            inner,
            closed: closed.clone(),
            last_error: last_error.clone(),
        };
        // Exports only when asked (force_flush, once per interval): the
        // reader's own timer is set beyond any run.
        let reader = PeriodicReader::builder(exporter)
            .with_interval(Duration::from_secs(7 * 24 * 3600))
            .build();
        let mut resource = Resource::builder();
        if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
            resource = resource.with_service_name("perfstress");
        }
        let provider = SdkMeterProvider::builder()
            .with_reader(reader)
            .with_resource(resource.build())
            .build();
        let current: Current = Arc::new(Mutex::new(None));
        let _instruments = instruments(&provider, &current, scenario);
        let mut warned = false;
        while let Ok(Message::Interval(point)) = receiver.recv() {
            *current.lock().unwrap_or_else(PoisonError::into_inner) = Some(*point);
            match provider.force_flush() {
                Ok(()) => done.exported += 1,
                Err(error) => {
                    done.failed += 1;
                    if !std::mem::replace(&mut warned, true) {
                        let why = last_error
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .take()
                            .unwrap_or_else(|| flush_error(&error));
                        warn(
                            url,
                            &format!(
                                "export failed ({why}); the run goes on, and the failed intervals are counted at its end"
                            ),
                        );
                    }
                }
            }
        }
        closed.store(true, Ordering::Release);
        let _ = provider.shutdown_with_timeout(Duration::from_millis(100));
        done
    }

    fn flush_error(error: &OTelSdkError) -> String {
        match error {
            OTelSdkError::Timeout(timeout) => format!("no answer in {timeout:?}"),
            other => other.to_string(),
        }
    }

    /// The instruments, each reading the current point when collected.
    fn instruments(
        provider: &SdkMeterProvider,
        current: &Current,
        scenario: String,
    ) -> Vec<Box<dyn std::any::Any>> {
        let meter = provider.meter("perfstress");
        let scenario = KeyValue::new("scenario_name", scenario);
        let read = {
            let current = current.clone();
            move |observe: &mut dyn FnMut(&Point, Vec<KeyValue>)| {
                let current = current.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(point) = current.as_ref() {
                    let attributes = vec![scenario.clone(), KeyValue::new("phase", point.phase)];
                    observe(point, attributes);
                }
            }
        };
        let read = Arc::new(read);
        let mut kept: Vec<Box<dyn std::any::Any>> = Vec::new();
        let r = read.clone();
        kept.push(Box::new(
            meter
                .u64_observable_counter("test.run.operations")
                .with_unit("{operation}")
                .with_description("Operations completed since the phase started")
                .with_callback(move |observer| {
                    r(&mut |point, attributes| {
                        observer.observe(point.total_operations, &attributes);
                    });
                })
                .build(),
        ));
        let r = read.clone();
        kept.push(Box::new(
            meter
                .f64_observable_gauge("test.run.operations.rate")
                .with_unit("{operation}/s")
                .with_description("Operations per second in the status interval")
                .with_callback(move |observer| {
                    r(&mut |point, attributes| {
                        if let Some(rate) = point.operations_per_second {
                            observer.observe(rate, &attributes);
                        }
                    });
                })
                .build(),
        ));
        let r = read.clone();
        kept.push(Box::new(
            meter
                .u64_observable_counter("test.run.errors")
                .with_unit("{error}")
                .with_description("Failed operations since the phase started, by error group")
                .with_callback(move |observer| {
                    r(&mut |point, attributes| {
                        for (group, count) in &point.errors {
                            let mut attributes = attributes.clone();
                            attributes.push(KeyValue::new("error.type", group.clone()));
                            observer.observe(*count, &attributes);
                        }
                    });
                })
                .build(),
        ));
        let r = read.clone();
        kept.push(Box::new(
            meter
                .f64_observable_gauge("test.run.duration.quantile")
                .with_unit("s")
                .with_description(
                    "Latency of the operations of the status interval, by quantile (1 = the slowest)",
                )
                .with_callback(move |observer| {
                    r(&mut |point, attributes| {
                        let Some(latency) = point.latency else { return };
                        for (quantile, value) in ["0.5", "0.9", "0.99", "1"].into_iter().zip(latency) {
                            let mut attributes = attributes.clone();
                            attributes.push(KeyValue::new("quantile", quantile));
                            observer.observe(value, &attributes);
                        }
                    });
                })
                .build(),
        ));
        let r = read.clone();
        kept.push(Box::new(
            meter
                .f64_observable_gauge("process.cpu.utilization")
                .with_unit("1")
                .with_description("CPU used by every process of the run in the interval, in cores")
                .with_callback(move |observer| {
                    r(&mut |point, attributes| {
                        if let Some(cores) = point.cpu_cores {
                            observer.observe(cores, &attributes);
                        }
                    });
                })
                .build(),
        ));
        let r = read;
        kept.push(Box::new(
            meter
                .u64_observable_gauge("process.memory.usage")
                .with_unit("By")
                .with_description("Resident memory of every process of the run")
                .with_callback(move |observer| {
                    r(&mut |point, attributes| {
                        if let Some(rss) = point.rss_bytes {
                            observer.observe(rss, &attributes);
                        }
                    });
                })
                .build(),
        ));
        kept
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn an_unreachable_endpoint_warns_and_ends_in_time() {
            // A port nothing listens on: bound, then closed.
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let url = format!("http://127.0.0.1:{port}/v1/metrics");
            let (queue, receiver) = mpsc::sync_channel(QUEUE);
            queue.send(Message::Interval(Box::default())).unwrap();
            queue.send(Message::Finish).unwrap();
            let started = Instant::now();
            let done = export_loop(&url, "Test".to_owned(), &receiver);
            assert_eq!((done.exported, done.failed), (0, 1));
            assert!(started.elapsed() < EXPORT_TIMEOUT + Duration::from_secs(3));
        }
    }
}
