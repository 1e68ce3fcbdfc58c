//! Configuration errors are usage errors (exit 2) that say what to set,
//! and no key or SAS is ever printed.

use crate::azurite::*;

#[test]
fn no_configuration_says_what_to_set() {
    for test in ["UploadTest", "LegacyDownloadTest", "ListContainersTest"] {
        let output = perf(test)
            .duration(1)
            .warmup(0)
            .processes(1)
            .outcome(Outcome::Usage);
        assert!(
            output.stderr.contains("AZURE_STORAGE_CONNECTION_STRING")
                && output.stderr.contains("UseDevelopmentStorage=true")
                && output.stderr.contains("--endpoint"),
            "{}",
            output.dump()
        );
    }
}

#[test]
fn malformed_values_are_usage_errors_that_quote_no_secret() {
    let key = "c2VjcmV0LWtleS1vZi10aGUtdGVzdA==";
    for (connection_string, says) in [
        (
            format!("AccountName=acct;AccountKey={key};Bogus"),
            "has no `=`",
        ),
        (
            format!("AccountName=acct;AccountKey={key};Colour=blue"),
            "unknown connection string key",
        ),
        (
            "AccountName=acct;AccountKey=not base64!".to_owned(),
            "not valid base64",
        ),
        (
            "AccountName=acct".to_owned(),
            "neither AccountKey nor SharedAccessSignature",
        ),
    ] {
        let output = perf("UploadTest")
            .env("AZURE_STORAGE_CONNECTION_STRING", &connection_string)
            .processes(1)
            .outcome(Outcome::Usage);
        let dump = output.dump();
        assert!(output.stderr.contains(says), "{dump}");
        assert!(!dump.contains(key) && !dump.contains("base64!"), "{dump}");
    }
    // A token credential is never sent over http (the 1.x crate refuses it).
    let output = perf("DownloadTest")
        .args(["--endpoint", "http://127.0.0.1:1/devstoreaccount1"])
        .processes(1)
        .outcome(Outcome::Usage);
    assert!(
        output.stderr.contains("must use https"),
        "{}",
        output.dump()
    );
    // The legacy tests take a connection string only.
    let output = perf("LegacyUploadTest")
        .args(["--endpoint", "https://acct.blob.core.windows.net"])
        .processes(1)
        .outcome(Outcome::Usage);
    assert!(
        output
            .stderr
            .contains("legacy tests need AZURE_STORAGE_CONNECTION_STRING"),
        "{}",
        output.dump()
    );
}

/// A wrong key: Azurite refuses the SAS signed with it (403), the run
/// fails, and neither the key nor the signature appears in the output.
#[test]
fn a_wrong_key_fails_without_printing_it() {
    let azurite = Azurite::start();
    let key = "d3Jvbmcta2V5LWZvci10aGUtZW11bGF0b3ItYWNjb3VudA==";
    let connection_string = azurite
        .connection_string()
        .replace(storage_blob_perf::config::DEVELOPMENT_KEY, key);
    for test in ["UploadTest", "LegacyUploadTest"] {
        let output = perf(test)
            .env("AZURE_STORAGE_CONNECTION_STRING", &connection_string)
            .duration(1)
            .warmup(0)
            .processes(1)
            .fails();
        let dump = output.dump();
        assert!(output.stderr.contains("403"), "{dump}");
        assert!(!dump.contains(key), "{dump}");
        assert!(!dump.contains("sig=") || dump.contains("sig=***"), "{dump}");
        assert!(!dump.contains("AccountKey=d3J"), "{dump}");
    }
    assert_eq!(azurite.containers(), Vec::<String>::new());
}
