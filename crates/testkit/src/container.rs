//! The Postgres container for runs without DATABASE_URL: one per test binary, started by
//! the first test that needs it and removed when the binary exits.
//!
//! testcontainers-rs 0.27 has no reaper (no Ryuk; testcontainers/testcontainers-rs#577, the
//! reaper of #949 is not merged). It removes a container when its handle is dropped, but
//! the handle must live in a static to outlive every test, and statics are never dropped.
//! So a small reaper of our own does it: a shell holding a pipe to this process, which sees
//! the pipe close when the test binary exits, however it exits, and then runs
//! `docker rm -f -v`. It needs the docker CLI, talking to the engine testcontainers used.

use std::io::ErrorKind;
use std::process::{ChildStdin, Command, Stdio};
use std::sync::OnceLock;

use testcontainers_modules::postgres::Postgres;
use testcontainers_modules::testcontainers::runners::AsyncRunner;

/// The reaper's end of the pipe, kept open for as long as this process lives.
static REAPER_PIPE: OnceLock<ChildStdin> = OnceLock::new();

/// Waits for its stdin to close, then removes container `$1` and its anonymous volume.
/// Ctrl-C reaches the whole process group; the reaper must outlive it to do its work.
const REAPER: &str = "trap '' INT TERM HUP; \
    command -v docker >/dev/null || { echo \"no docker CLI to remove postgres test container \
    $1: after the tests, remove it with: docker rm -f -v $1\" >&2; exit 1; }; \
    cat >/dev/null; docker rm -f -v \"$1\" >/dev/null";

/// Starts Postgres and returns its URL; `how_to` says how else to provide a database.
pub async fn start_postgres(how_to: &str) -> String {
    let container = Postgres::default()
        .start()
        .await
        .unwrap_or_else(|err| panic!("no DATABASE_URL and no Docker engine ({err}).\n{how_to}"));
    let port = container.get_host_port_ipv4(5432).await.expect("container port");
    remove_at_exit(container.id());
    // Dropping the handle would remove the container while other tests still use it; the
    // reaper removes it instead, when the binary exits.
    std::mem::forget(container);
    format!("postgres://postgres:postgres@127.0.0.1:{port}/postgres")
}

/// Starts the reaper for container `id`, or says how to remove the container by hand.
fn remove_at_exit(id: &str) {
    let spawned = Command::new("sh")
        .args(["-c", REAPER, "hubsync-test-reaper", id])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn();
    match spawned {
        Ok(mut reaper) => {
            let pipe = reaper.stdin.take().expect("the reaper's stdin is piped");
            let _ = REAPER_PIPE.set(pipe);
            eprintln!("postgres test container {id} is removed when this test binary exits");
        }
        Err(err) => {
            let why = match err.kind() {
                ErrorKind::NotFound => "no `sh`".to_string(),
                _ => err.to_string(),
            };
            eprintln!(
                "cannot start the reaper of postgres test container {id} ({why}); after the \
                 tests, remove it with: docker rm -f -v {id}"
            );
        }
    }
}
