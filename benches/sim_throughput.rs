//! Simulator throughput: how many records per second each simulator's batch endpoint takes.

// Bench targets are crate roots in `benches/`, so each simulator's part is named by path.
#[path = "sim_throughput/salesforce.rs"]
mod salesforce;

fn main() {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    runtime.block_on(salesforce::run());
}
