//! `--otlp-endpoint`: an OTLP/HTTP receiver started here on 127.0.0.1:0
//! gets one export per status interval, with the timeline's names and
//! values; an unreachable collector is a warning, never a hang.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{NumberDataPoint, metric, number_data_point};
use prost::Message;
use serde_json::Value;

use crate::common::*;

/// A minimal OTLP/HTTP receiver: every POST body decoded, in order.
struct Receiver {
    port: u16,
    requests: Arc<Mutex<Vec<(String, ExportMetricsServiceRequest)>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Receiver {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (kept, stopping) = (requests.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let kept = kept.clone();
                        std::thread::spawn(move || serve(stream, &kept));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Self {
            port,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    fn requests(&self) -> Vec<(String, ExportMetricsServiceRequest)> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Serves the requests of one (kept-alive) connection.
fn serve(stream: TcpStream, kept: &Mutex<Vec<(String, ExportMetricsServiceRequest)>>) {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0;
        let mut content_type = String::new();
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').unwrap();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap(),
                "content-type" => value.trim().clone_into(&mut content_type),
                _ => {}
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let path = request_line
            .split(' ')
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        let request = ExportMetricsServiceRequest::decode(body.as_slice())
            .unwrap_or_else(|error| panic!("{content_type} body of {path}: {error}"));
        kept.lock().unwrap().push((path, request));
        writer
            .write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n",
            )
            .unwrap();
    }
}

fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|attribute| attribute.key == key)
        .and_then(
            |attribute| match attribute.value.as_ref()?.value.as_ref()? {
                any_value::Value::StringValue(text) => Some(text.as_str()),
                _ => None,
            },
        )
}

/// The points of one export: metric name -> (phase, extra attribute) -> value.
type Points = BTreeMap<String, BTreeMap<(String, String), f64>>;

fn points_of(request: &ExportMetricsServiceRequest) -> (Points, Option<String>) {
    let mut points = Points::new();
    let mut service = None;
    for resource in &request.resource_metrics {
        if let Some(resource) = &resource.resource {
            service = attribute(&resource.attributes, "service.name").map(str::to_owned);
        }
        for scope in &resource.scope_metrics {
            for metric in &scope.metrics {
                let data: &[NumberDataPoint] = match &metric.data {
                    Some(metric::Data::Gauge(gauge)) => &gauge.data_points,
                    Some(metric::Data::Sum(sum)) => {
                        assert!(sum.is_monotonic, "{}", metric.name);
                        &sum.data_points
                    }
                    other => panic!("{}: {other:?}", metric.name),
                };
                for point in data {
                    assert_eq!(
                        attribute(&point.attributes, "scenario_name"),
                        Some("StressSampleTest")
                    );
                    let phase = attribute(&point.attributes, "phase").unwrap().to_owned();
                    let extra = attribute(&point.attributes, "error.type")
                        .or_else(|| attribute(&point.attributes, "quantile"))
                        .unwrap_or_default()
                        .to_owned();
                    let value = match point.value {
                        Some(number_data_point::Value::AsInt(value)) => value as f64,
                        Some(number_data_point::Value::AsDouble(value)) => value,
                        None => panic!("{}: no value", metric.name),
                    };
                    points
                        .entry(metric.name.clone())
                        .or_default()
                        .insert((phase, extra), value);
                }
            }
        }
    }
    (points, service)
}

fn lines_of(path: &TempPath) -> Vec<Value> {
    std::fs::read_to_string(path.path())
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn close(actual: f64, expected: f64, what: &str) {
    assert!(
        (actual - expected).abs() <= 1e-9 * expected.abs().max(1.0),
        "{what}: {actual} != {expected}"
    );
}

#[test]
fn a_receiver_gets_the_timeline_as_metrics() {
    let _cpu = cpu_saturating();
    let receiver = Receiver::start();
    let timeline = TempPath::new("otlp-timeline");
    // Two iterations: the timeline's totals restart at the second, the
    // exported counters go on.
    let output = systemperf("StressSampleTest")
        .duration(1.5)
        .warmup(1)
        .processes(1)
        .option("--iterations", 2)
        .latency()
        .arg("--continue-on-error")
        .option("--max-error-rate", "2%")
        .option("--error-rate", "1%")
        .option("--error-kinds", "timeout,status")
        .option("--status-interval", "0.5")
        .option("--timeline", timeline.arg())
        .option(
            "--otlp-endpoint",
            format!("http://127.0.0.1:{}", receiver.port),
        )
        .env_remove("OTEL_SERVICE_NAME")
        .env_remove("OTEL_EXPORTER_OTLP_METRICS_COMPRESSION")
        .env_remove("OTEL_EXPORTER_OTLP_COMPRESSION")
        .run();
    output.assert_outcome(Outcome::Success);
    assert!(!output.stderr.contains("otlp"), "{}", output.dump());
    let lines = lines_of(&timeline);
    let requests = receiver.requests();
    // One export per interval, in order, nothing after the last.
    assert_eq!(requests.len(), lines.len(), "{}", output.dump());
    assert!(lines.iter().filter(|line| line["phase"] == "run").count() >= 6);
    assert!(lines.iter().any(|line| line["iteration"] == 2));
    // Per phase: the earlier iterations' operations and errors, and the
    // current iteration's last totals.
    let mut carried: BTreeMap<String, [u64; 4]> = BTreeMap::new();
    for ((path, request), line) in requests.iter().zip(&lines) {
        assert_eq!(path, "/v1/metrics");
        let (points, service) = points_of(request);
        assert_eq!(service.as_deref(), Some("perfstress"));
        let phase = line["phase"].as_str().unwrap().to_owned();
        let value = |name: &str, extra: &str| -> Option<f64> {
            points
                .get(name)?
                .get(&(phase.clone(), extra.to_owned()))
                .copied()
        };
        let [operations, errors, last_operations, last_errors] =
            carried.entry(phase.clone()).or_default();
        if line["interval"] == 0 {
            *operations += std::mem::take(last_operations);
            *errors += std::mem::take(last_errors);
        }
        *last_operations = line["total_operations"].as_u64().unwrap();
        *last_errors = line["total_errors"].as_u64().unwrap();
        let (total_operations, total_errors) =
            (*operations + *last_operations, *errors + *last_errors);
        assert_eq!(
            value("test.run.operations", ""),
            Some(total_operations as f64),
            "{line}"
        );
        match line["operations_per_second"].as_f64() {
            Some(rate) => close(value("test.run.operations.rate", "").unwrap(), rate, "rate"),
            None => assert_eq!(value("test.run.operations.rate", ""), None),
        }
        let errors: f64 = points
            .get("test.run.errors")
            .map(|errors| {
                errors
                    .iter()
                    .filter(|((point_phase, _), _)| *point_phase == phase)
                    .map(|(_, count)| count)
                    .sum()
            })
            .unwrap_or(0.0);
        assert_eq!(errors, total_errors as f64, "{line}");
        if let Some(latency) = line.get("latency_ms") {
            for (quantile, key) in [
                ("0.5", "p50"),
                ("0.9", "p90"),
                ("0.99", "p99"),
                ("1", "max"),
            ] {
                close(
                    value("test.run.duration.quantile", quantile).unwrap() * 1e3,
                    latency[key].as_f64().unwrap(),
                    key,
                );
            }
        }
        if let Some(cpu) = line["cpu_percent"].as_f64() {
            // The timeline rounds it to 0.1 percent; the export does not.
            let exported = value("process.cpu.utilization", "").unwrap() * 100.0;
            assert!(
                (exported - cpu).abs() <= 0.05 + 1e-9,
                "cpu: {exported} != {cpu}"
            );
        }
        if let Some(rss) = line["rss_bytes"].as_u64() {
            assert_eq!(value("process.memory.usage", ""), Some(rss as f64));
        }
    }
    // The run's errors reached the receiver by group.
    let (last, _) = points_of(&requests.last().unwrap().1);
    let groups: Vec<&str> = last["test.run.errors"]
        .keys()
        .filter(|(phase, _)| phase == "run")
        .map(|(_, group)| group.as_str())
        .collect();
    assert_eq!(groups.len(), 2, "{groups:?}");
    assert!(lines.last().unwrap().get("latency_ms").is_some());
    // The counter over both iterations is the results' pooled total.
    let run = &carried["run"];
    assert_eq!(
        (run[0] + run[2]) as f64,
        last["test.run.operations"][&("run".to_owned(), String::new())]
    );
    assert!(
        run[0] > 0,
        "the second iteration carried the first's operations"
    );
}

#[test]
fn an_unreachable_collector_is_a_warning_not_a_hang() {
    // A port nothing listens on any more.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = Instant::now();
    let output = systemperf("NoOpTest")
        .duration(1)
        .warmup(0)
        .processes(1)
        .option("--status-interval", "0.25")
        .option("--otlp-endpoint", format!("http://127.0.0.1:{port}"))
        .run();
    output.assert_outcome(Outcome::Success);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{}",
        output.dump()
    );
    let warnings: Vec<&str> = output
        .stderr
        .lines()
        .filter(|line| line.starts_with("warning: --otlp-endpoint"))
        .collect();
    assert_eq!(warnings.len(), 2, "{}", output.dump());
    assert!(warnings[0].contains("export failed"), "{}", output.dump());
    // Every interval counted as not exported: "N of N status intervals".
    let counted: Vec<&str> = warnings[1]
        .split(" status intervals were not exported")
        .next()
        .unwrap()
        .rsplit(": ")
        .next()
        .unwrap()
        .split(" of ")
        .collect();
    assert!(
        counted.len() == 2 && counted[0] == counted[1],
        "{}",
        output.dump()
    );
    assert!(counted[0].parse::<u32>().unwrap() >= 4, "{}", output.dump());
    // A bad URL is a usage error, before anything runs.
    let output = systemperf("NoOpTest")
        .option("--otlp-endpoint", "localhost:4318")
        .run();
    output.assert_outcome(Outcome::Usage);
    assert!(
        output.stderr.contains("--otlp-endpoint: not a URL"),
        "{}",
        output.dump()
    );
}
