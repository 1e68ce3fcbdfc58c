//! The stress-cluster package (`sdk/storage/stress/`): every file the
//! cluster reads parses, with the fields it requires. There is no helm
//! here, so the templates are rendered the way one can without it: Go
//! template actions alone on a line (`define`, `range`, `if`, variables)
//! are dropped, an `include`/`toYaml ... | nindent N` line becomes a list
//! item at indentation N (every one in job.yaml emits list items), and an
//! inline `{{ expression }}` becomes the plain scalar `<<expression>>`, so
//! the test can check which expression a field holds.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use yaml_rust2::{Yaml, YamlLoader};

fn package() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../stress")
}

fn read(name: &str) -> String {
    let path = package().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn parse(name: &str, text: &str) -> Vec<Yaml> {
    YamlLoader::load_from_str(text)
        .unwrap_or_else(|error| panic!("{name} is not YAML: {error}\n{text}"))
}

/// `yaml[key]`, failing with the path when it is missing.
fn get<'a>(yaml: &'a Yaml, path: &str) -> &'a Yaml {
    let mut node = yaml;
    for key in path.split('.') {
        node = match key.parse::<usize>() {
            Ok(index) => &node[index],
            Err(_) => &node[key],
        };
        assert!(!node.is_badvalue(), "no {path} in {yaml:?}");
    }
    node
}

fn text<'a>(yaml: &'a Yaml, path: &str) -> &'a str {
    get(yaml, path)
        .as_str()
        .unwrap_or_else(|| panic!("{path} is not a string: {:?}", get(yaml, path)))
}

/// One `{{ ... }}` action's text, or `None` outside actions.
fn actions(line: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find("{{") {
        let end = rest[start..].find("}}").expect("an unclosed action") + start;
        found.push(rest[start + 2..end].trim_matches(['-', ' ']));
        rest = &rest[end + 2..];
    }
    found
}

/// A template rendered as described above: the documents outside the
/// `define`s, then each `define`'s body, by name.
struct Rendered {
    documents: Vec<Yaml>,
    defines: Vec<(String, Yaml)>,
}

fn render(name: &str, template: &str) -> Rendered {
    let mut outside = String::new();
    let mut defines: Vec<(String, String)> = Vec::new();
    let mut depth = 0usize;
    let mut in_comment = false;
    for line in template.lines() {
        let trimmed = line.trim();
        if in_comment {
            in_comment = !trimmed.ends_with("*/ -}}") && !trimmed.ends_with("*/}}");
            continue;
        }
        if trimmed.starts_with("{{- /*") || trimmed.starts_with("{{/*") {
            in_comment = !trimmed.ends_with("}}");
            continue;
        }
        let target = if depth > 0 {
            &mut defines.last_mut().unwrap().1
        } else {
            &mut outside
        };
        let whole =
            trimmed.starts_with("{{") && trimmed.ends_with("}}") && actions(trimmed).len() == 1;
        if whole {
            let action = actions(trimmed)[0];
            let word = action.split_whitespace().next().unwrap_or_default();
            match word {
                "define" => {
                    assert_eq!(depth, 0, "{name}: nested define");
                    let define = action.split('"').nth(1).unwrap().to_owned();
                    defines.push((define, String::new()));
                    depth = 1;
                }
                "range" | "if" | "with" => {
                    if depth > 0 {
                        depth += 1;
                    }
                }
                "end" => depth = depth.saturating_sub(1),
                "else" => {}
                _ if word.starts_with('$') => {}
                _ => {
                    if let Some((_, indent)) = action.rsplit_once("nindent ") {
                        let indent: usize = indent.trim().parse().unwrap();
                        target.push_str(&format!("{}- name: from-helm\n", " ".repeat(indent)));
                    }
                    // An include with no nindent emits whole documents
                    // (the add-ons' configmap and secrets): checked there.
                }
            }
            continue;
        }
        let mut rendered = String::new();
        let mut rest = line;
        while let Some(start) = rest.find("{{") {
            let end = rest[start..].find("}}").unwrap() + start;
            rendered.push_str(&rest[..start]);
            rendered.push_str(&format!("<<{}>>", rest[start + 2..end].trim()));
            rest = &rest[end + 2..];
        }
        rendered.push_str(rest);
        target.push_str(&rendered);
        target.push('\n');
    }
    assert_eq!(depth, 0, "{name}: an unclosed define");
    Rendered {
        documents: parse(name, &outside)
            .into_iter()
            .filter(|document| !document.is_null())
            .collect(),
        defines: defines
            .into_iter()
            .map(|(define, body)| {
                let mut documents = parse(&format!("{name}: {define}"), &body);
                assert_eq!(documents.len(), 1, "{define}");
                (define, documents.remove(0))
            })
            .collect(),
    }
}

#[test]
fn the_chart_names_the_addons_and_is_found_by_the_deploy_script() {
    let chart = &parse("Chart.yaml", &read("Chart.yaml"))[0];
    assert_eq!(text(chart, "apiVersion"), "v2");
    // A string 'true', as find-all-stress-packages.ps1 compares it.
    assert_eq!(text(chart, "annotations.stressTest"), "true");
    let namespace = text(chart, "annotations.namespace");
    assert!(
        !namespace.is_empty()
            && namespace.len() <= 63
            && namespace
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
        "{namespace}"
    );
    let dependencies = get(chart, "dependencies").as_vec().unwrap();
    let addons = dependencies
        .iter()
        .find(|dependency| dependency["name"].as_str() == Some("stress-test-addons"))
        .expect("the stress-test-addons dependency");
    assert_eq!(text(addons, "repository"), "@stress-test-charts");
    assert!(text(addons, "version").contains("0.3"));
    assert!(!text(chart, "name").is_empty() && !text(chart, "version").is_empty());
}

/// The Class names of `sdk/storage/perf-tests.yml`.
fn suite_classes() -> BTreeSet<String> {
    let suite = std::fs::read_to_string(package().join("../perf-tests.yml")).unwrap();
    let suite = &parse("perf-tests.yml", &suite)[0];
    get(suite, "Tests")
        .as_vec()
        .unwrap()
        .iter()
        .map(|test| text(test, "Class").to_owned())
        .collect()
}

#[test]
fn every_scenario_has_what_the_job_reads() {
    let matrix = &parse("scenarios-matrix.yaml", &read("scenarios-matrix.yaml"))[0];
    let scenarios = get(matrix, "matrix.scenarios").as_hash().unwrap();
    assert!(!scenarios.is_empty());
    let classes = suite_classes();
    let mut modes = BTreeSet::new();
    for (name, scenario) in scenarios {
        let name = name.as_str().unwrap();
        // Part of the Job's name and of the resource group's label.
        assert!(
            name.len() <= 30 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
            "{name}"
        );
        assert!(
            classes.contains(text(scenario, "testName")),
            "{name}: not a Class of perf-tests.yml"
        );
        assert_eq!(text(scenario, "imageBuildDir"), "../../..", "{name}");
        let mode = text(scenario, "mode");
        assert!(["coordinated", "sharded"].contains(&mode), "{name}: {mode}");
        modes.insert(mode.to_owned());
        for key in ["hosts", "processes", "durationSec", "port"] {
            let value = get(scenario, key)
                .as_i64()
                .unwrap_or_else(|| panic!("{name}: {key}"));
            assert!(value >= 1, "{name}: {key}");
        }
        assert!(get(scenario, "port").as_i64().unwrap() <= 65535);
        for key in ["cpu", "memory", "testArgs"] {
            assert!(!text(scenario, key).is_empty(), "{name}: {key}");
        }
        assert!(
            !text(scenario, "testArgs").contains("--duration"),
            "{name}: durationSec sets it"
        );
    }
    assert_eq!(modes.len(), 2, "a scenario of each mode");
}

#[test]
fn the_job_is_indexed_and_its_pods_coordinate_through_the_service() {
    let rendered = render("templates/job.yaml", &read("templates/job.yaml"));
    let (define, job) = &rendered.defines[0];
    assert_eq!(define, "rust-storage-stress.job");
    // The Job name the add-ons give (their deploy-job-template.tpl).
    let name = "<<$name>>";
    let job_name = "<<lower $ctx.Stress.Scenario>>-<<$.Release.Name>>-<<$.Release.Revision>>";
    assert_eq!(text(job, "spec.completionMode"), "Indexed");
    assert_eq!(text(job, "spec.completions"), "<<$pods>>");
    assert_eq!(text(job, "spec.parallelism"), "<<$pods>>");
    let pod = get(job, "spec.template.spec");
    assert_eq!(text(pod, "subdomain"), name);
    assert_eq!(text(pod, "restartPolicy"), "Never");
    // The add-ons' volumes are kept (3 includes), and the token's secret.
    let volumes = get(pod, "volumes").as_vec().unwrap();
    assert_eq!(
        volumes
            .iter()
            .filter(|v| v["name"].as_str() == Some("from-helm"))
            .count(),
        3
    );
    let token = volumes
        .iter()
        .find(|volume| volume["name"].as_str() == Some("join-token"))
        .unwrap();
    assert_eq!(
        text(token, "secret.secretName"),
        format!("join-token-{name}")
    );
    // TLS between hosts: the certificate's secret, there only with `tls`.
    let tls = volumes
        .iter()
        .find(|volume| volume["name"].as_str() == Some("host-tls"))
        .unwrap();
    assert_eq!(text(tls, "secret.secretName"), format!("host-tls-{name}"));
    assert_eq!(get(tls, "secret.optional").as_bool(), Some(true));
    let container = get(pod, "containers.0");
    assert_eq!(text(container, "image"), "<<.Stress.imageTag>>");
    assert_eq!(get(container, "command").as_vec().unwrap().len(), 2);
    let script = text(container, "args.0");
    for expected in [
        "--listen 0.0.0.0:<<.Stress.port>> --hosts <<.Stress.hosts>>",
        "--token-file \"$TOKEN\"",
        "TOKEN=/mnt/join-token/token",
        "\"$JOB_COMPLETION_INDEX\" = 0",
        "--shard \"$JOB_COMPLETION_INDEX/<<.Stress.hosts>>\"",
        "COORDINATOR=<<$name>>-0.<<$name>>",
        "--join \"$COORDINATOR:<<.Stress.port>>\"",
        ". \"$ENV_FILE\"",
        "--otlp-endpoint",
        "\"<<.Stress.tls | default false>>\" = true",
        "TLS_COORDINATOR=\"--tls-cert /mnt/host-tls/tls.crt --tls-key /mnt/host-tls/tls.key\"",
        "TLS_HOST=\"--tls-ca /mnt/host-tls/tls.crt\"",
        "--token-file \"$TOKEN\" $TLS_COORDINATOR",
        "--token-file \"$TOKEN\" $TLS_HOST",
    ] {
        assert!(script.contains(expected), "no {expected} in\n{script}");
    }
    // The token is never an argument itself.
    assert!(!script.contains("PERFSTRESS_JOIN_TOKEN"));
    let mounts = get(container, "volumeMounts").as_vec().unwrap();
    assert!(
        mounts
            .iter()
            .any(|mount| mount["name"].as_str() == Some("from-helm"))
    );
    let mount = mounts
        .iter()
        .find(|mount| mount["name"].as_str() == Some("join-token"))
        .unwrap();
    assert_eq!(text(mount, "mountPath"), "/mnt/join-token");
    assert_eq!(get(mount, "readOnly").as_bool(), Some(true));
    let mount = mounts
        .iter()
        .find(|mount| mount["name"].as_str() == Some("host-tls"))
        .unwrap();
    assert_eq!(text(mount, "mountPath"), "/mnt/host-tls");
    assert_eq!(get(mount, "readOnly").as_bool(), Some(true));
    assert!(get(container, "env").as_vec().unwrap().len() == 1);
    assert_eq!(text(container, "ports.0.containerPort"), "<<.Stress.port>>");
    assert!(!text(container, "resources.limits.cpu").is_empty());

    // Outside the define: the merged Job, then the Service and the Secret.
    let kinds: Vec<&str> = rendered
        .documents
        .iter()
        .map(|document| document["kind"].as_str().unwrap_or("from-helm"))
        .collect();
    assert_eq!(
        kinds,
        ["from-helm", "Service", "Secret", "Secret"],
        "{:?}",
        rendered.documents
    );
    let service = &rendered.documents[1];
    assert_eq!(text(service, "apiVersion"), "v1");
    assert_eq!(text(service, "metadata.name"), job_name);
    assert_eq!(
        text(service, "metadata.namespace"),
        "<<$.Release.Namespace>>"
    );
    assert_eq!(text(service, "spec.clusterIP"), "None");
    assert_eq!(
        get(service, "spec.publishNotReadyAddresses").as_bool(),
        Some(true)
    );
    assert_eq!(
        get(service, "spec.selector")["batch.kubernetes.io/job-name"].as_str(),
        Some(job_name)
    );
    assert_eq!(text(service, "spec.ports.0.port"), "<<$ctx.Stress.port>>");
    let secret = &rendered.documents[2];
    assert_eq!(text(secret, "type"), "Opaque");
    assert_eq!(
        text(secret, "metadata.name"),
        format!("join-token-{job_name}")
    );
    assert_eq!(
        text(secret, "stringData.token"),
        "<<randAlphaNum 48 | quote>>"
    );
    let tls = &rendered.documents[3];
    assert_eq!(text(tls, "type"), "kubernetes.io/tls");
    assert_eq!(text(tls, "metadata.name"), format!("host-tls-{job_name}"));
    assert_eq!(
        get(tls, "data")["tls.crt"].as_str(),
        Some("<<$certificate.Cert | b64enc>>")
    );
    assert_eq!(
        get(tls, "data")["tls.key"].as_str(),
        Some("<<$certificate.Key | b64enc>>")
    );
    // The certificate names pod 0 as the hosts reach it (`--join`).
    let template = read("templates/job.yaml");
    assert!(
        template.contains("genSelfSignedCert $coordinator nil (list $coordinator) 365")
            && template.contains(
                "$coordinator := printf \"%s-%s-%v-0.%s-%s-%v\" (lower $ctx.Stress.Scenario) $.Release.Name $.Release.Revision (lower $ctx.Stress.Scenario) $.Release.Name $.Release.Revision"
            ),
        "{template}"
    );
}

/// The runner's `--help` (`args` before it): what options it has.
fn help(args: &[&str]) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_storage-blob-perf"))
        .args(args)
        .arg("--help")
        .env_remove("PERFSTRESS_JOIN")
        .output()
        .unwrap();
    assert!(output.status.success(), "{args:?} --help: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// The `--option` spellings in `text` (not `--` alone).
fn options_in(text: &str) -> BTreeSet<String> {
    let mut options = BTreeSet::new();
    let mut rest = text;
    while let Some(start) = rest.find("--") {
        let spelled: String = rest[start + 2..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        if !spelled.is_empty() {
            options.insert(format!("--{spelled}"));
        }
        rest = &rest[start + 2..];
    }
    options
}

/// Every option the chart's command lines spell, the job's script and each
/// scenario's testArgs, is an option of the real runner (its `--help`):
/// a renamed option fails here, not in the cluster.
#[test]
fn the_charts_command_lines_use_the_runners_real_options() {
    let rendered = render("templates/job.yaml", &read("templates/job.yaml"));
    let script = text(
        get(&rendered.defines[0].1, "spec.template.spec.containers.0"),
        "args.0",
    );
    let framework = options_in(&help(&[]));
    let used = options_in(script);
    for expected in ["--join-timeout", "--host-id", "--tls-ca", "--token-file"] {
        assert!(used.contains(expected), "{expected}");
    }
    for option in &used {
        assert!(
            framework.contains(option),
            "the job's script uses {option}, which `storage-blob-perf --help` does not list"
        );
    }
    let matrix = &parse("scenarios-matrix.yaml", &read("scenarios-matrix.yaml"))[0];
    for (name, scenario) in get(matrix, "matrix.scenarios").as_hash().unwrap() {
        let test = text(scenario, "testName");
        let known = options_in(&help(&[test]));
        for option in options_in(text(scenario, "testArgs")) {
            assert!(
                known.contains(&option),
                "{}: testArgs uses {option}, which `storage-blob-perf {test} --help` does not list",
                name.as_str().unwrap()
            );
        }
    }
}

#[test]
fn the_image_builds_the_bench_executable_and_the_account_is_deployed() {
    let dockerfile = read("Dockerfile");
    let stages: Vec<&str> = dockerfile
        .lines()
        .filter(|line| line.starts_with("FROM "))
        .collect();
    assert_eq!(stages.len(), 2, "{stages:?}");
    assert!(stages[0].ends_with(" AS build"));
    assert!(dockerfile.contains(
        "cargo build --release --locked --package storage-blob-perf --bench perf --message-format=json"
    ));
    assert!(dockerfile.contains("COPY --from=build /storage-blob-perf /app/storage-blob-perf"));
    // The runner path the job's script starts.
    assert!(read("templates/job.yaml").contains("RUNNER=/app/storage-blob-perf"));
    // The toolchain is the workspace's MSRV.
    let workspace = std::fs::read_to_string(package().join("../../../Cargo.toml")).unwrap();
    let msrv = workspace
        .lines()
        .find_map(|line| line.strip_prefix("rust-version = \""))
        .unwrap()
        .trim_end_matches('"');
    assert!(
        stages[0].starts_with(&format!("FROM rust:{msrv}-")),
        "{msrv}: {}",
        stages[0]
    );

    let bicep = read("stress-test-resources.bicep");
    assert!(bicep.contains("resource account 'Microsoft.Storage/storageAccounts@"));
    // The outputs the suite reads (its Configuration section).
    for output in [
        "AZURE_STORAGE_ACCOUNT_NAME",
        "AZURE_STORAGE_CONNECTION_STRING",
    ] {
        assert!(
            bicep.contains(&format!("output {output} string")),
            "{output}"
        );
    }
    assert!(bicep.contains("param baseName string"));
}
