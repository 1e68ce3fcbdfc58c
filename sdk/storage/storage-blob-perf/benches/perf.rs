fn main() {
    storage_blob_perf::main()
}
