//! The `systemperf` runner: every built-in system test, run from the
//! command line (`systemperf SleepTest -d 2`). The end-to-end tests of this
//! package start it as a user or PerfAutomation would.

fn main() {
    systemperf::main()
}
