//! Rejected records, rate-limit storms and crashes: nothing lost, nothing duplicated.
