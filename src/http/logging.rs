//! Every log line a request causes carries its request id, as a key-value that env_logger prints
//! (`request_id=…`): lines written while the request's future runs know it from a task-local,
//! lines written by its blocking work (the database, parsing, rendering) from a thread-local that
//! `blocking` sets for the duration.

use std::cell::RefCell;
use std::future::Future;

use log::{Log, Metadata, Record};

tokio::task_local! {
    static REQUEST_ID: String;
}

thread_local! {
    static BLOCKING_REQUEST_ID: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// The id of the request whose work is running here, if any.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok().or_else(|| BLOCKING_REQUEST_ID.with(|id| id.borrow().clone()))
}

/// Runs a request's future with its id known to the log lines it causes.
pub async fn scope<F: Future>(id: String, future: F) -> F::Output {
    REQUEST_ID.scope(id, future).await
}

/// Wraps blocking work so that its log lines carry the id of the request that asked for it.
pub fn blocking<T>(f: impl FnOnce() -> T) -> impl FnOnce() -> T {
    let id = current();
    move || {
        let previous = BLOCKING_REQUEST_ID.with(|slot| slot.replace(id));
        let out = f();
        BLOCKING_REQUEST_ID.with(|slot| *slot.borrow_mut() = previous);
        out
    }
}

/// A logger that adds `request_id` to each record written on behalf of a request.
pub struct WithRequestId<L>(pub L);

impl<L: Log> Log for WithRequestId<L> {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.0.enabled(metadata)
    }

    fn log(&self, record: &Record<'_>) {
        match current() {
            Some(id) => {
                let kv = ("request_id", id.as_str());
                self.0.log(&record.to_builder().key_values(&kv).build());
            }
            None => self.0.log(record),
        }
    }

    fn flush(&self) {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Keeps each record's message and its `request_id`.
    #[derive(Default)]
    struct Kept(Mutex<Vec<(String, Option<String>)>>);

    impl Log for &'static Kept {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }
        fn log(&self, record: &Record<'_>) {
            let id = record.key_values().get("request_id".into()).map(|v| v.to_string());
            self.0.lock().unwrap().push((record.args().to_string(), id));
        }
        fn flush(&self) {}
    }

    fn write(logger: &dyn Log, message: &str) {
        logger.log(&Record::builder().args(format_args!("{message}")).level(log::Level::Warn).build());
    }

    #[actix_web::test]
    async fn lines_of_a_request_and_of_its_blocking_work_carry_its_id() {
        let kept: &'static Kept = Box::leak(Box::default());
        let logger: &'static WithRequestId<&'static Kept> = Box::leak(Box::new(WithRequestId(kept)));
        write(logger, "before");
        scope("req-1".into(), async {
            write(logger, "in the request");
            let work = blocking(move || write(logger, "in its blocking work"));
            actix_web::web::block(work).await.unwrap();
        })
        .await;
        write(logger, "after");
        let lines = kept.0.lock().unwrap().clone();
        let id = |s: &str| lines.iter().find(|(m, _)| m == s).unwrap().1.clone();
        assert_eq!(id("before"), None);
        assert_eq!(id("in the request").as_deref(), Some("req-1"));
        assert_eq!(id("in its blocking work").as_deref(), Some("req-1"));
        assert_eq!(id("after"), None);
    }
}
