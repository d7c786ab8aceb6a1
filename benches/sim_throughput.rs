//! Simulator throughput: how many records per second each simulator's batch endpoint takes.

mod salesforce;

fn main() {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    runtime.block_on(salesforce::run());
}
