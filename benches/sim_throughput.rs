//! Simulator throughput: how fast each simulator serves batch writes with no rate limit, so
//! it is never the bottleneck in hubsync's own benchmarks.

// Bench targets are crate roots in `benches/`, so each simulator's part is named by path.
#[path = "sim_throughput/hubspot.rs"]
mod hubspot;
#[path = "sim_throughput/salesforce.rs"]
mod salesforce;

/// The simulators run here as they do under `hubsync sim` and in every hubsync test and
/// bench: on mimalloc, hubsync's allocator. This bench links no hubsync code since the
/// simulators became crates of their own, so it names the allocator itself; on glibc's the
/// same simulators serve about a third fewer records per second.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    runtime.block_on(hubspot::run());
    runtime.block_on(salesforce::run());
}
