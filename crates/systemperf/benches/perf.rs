fn main() {
    systemperf::main()
}
