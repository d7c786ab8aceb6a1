//! Simulator throughput: how fast each simulator serves batch writes with no rate limit, so
//! it is never the bottleneck in hubsync's own benchmarks.

// Bench targets are crate roots in `benches/`, so each simulator's part is named by path.
#[path = "sim_throughput/hubspot.rs"]
mod hubspot;
#[path = "sim_throughput/salesforce.rs"]
mod salesforce;

fn main() {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    runtime.block_on(hubspot::run());
    runtime.block_on(salesforce::run());
}
