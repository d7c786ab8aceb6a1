//! Connector throughput (in progress).

fn main() {}
