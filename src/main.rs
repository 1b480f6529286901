fn main() {
    std::process::exit(cachecmd::run_cli());
}
