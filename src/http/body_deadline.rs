//! A deadline on every request body: one that sends no byte for `DVK_BODY_IDLE_SECS`, or that
//! averages under `DVK_BODY_MIN_RATE` bytes a second once its first `DVK_BODY_IDLE_SECS` are
//! over, ends in 408 `body_too_slow`. Without it a client trickling a body (a byte every few
//! seconds) holds the request's task, and for a file its spool, for as long as it likes.
//!
//! The payload is wrapped once, here, for every route: the readers of bodies (`json::read_body`,
//! `Spool::receive`) learn of the deadline from the error the body ends with (`refusal`). A
//! resumable upload keeps what arrived before its deadline, as it does when a body is cut off.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};
use bytes::Bytes;
use futures_util::{Future, Stream};
use tokio::time::{Instant, Sleep};

use crate::error::ApiError;
use crate::AppState;

/// What a body must keep up with.
#[derive(Clone, Copy, Debug)]
struct Pace {
    idle: Duration,
    /// Bytes a second on average, after the first `idle`; 0 for no bound.
    min_rate: u64,
}

/// The error a body ends with when it missed its deadline.
#[derive(Debug)]
struct TooSlow(Pace);

impl std::fmt::Display for TooSlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the request body came too slowly")
    }
}

impl std::error::Error for TooSlow {}

/// The answer for a body that ended in `e`, when it ended because it missed its deadline.
pub fn refusal(e: &PayloadError) -> Option<ApiError> {
    let PayloadError::Io(io) = e else { return None };
    let TooSlow(pace) = io.get_ref()?.downcast_ref::<TooSlow>()?;
    Some(ApiError::BodyTooSlow { idle_secs: pace.idle.as_secs(), min_rate: pace.min_rate })
}

/// Wraps the body of every request that has one.
pub async fn body_deadline(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let pace = req
        .app_data::<web::Data<AppState>>()
        .map(|s| Pace { idle: Duration::from_secs(s.config.body_idle_secs), min_rate: s.config.body_min_rate });
    if let Some(pace) = pace.filter(|_| has_body(&req)) {
        let body = Deadline::new(req.take_payload(), pace);
        req.set_payload(Payload::from(Box::pin(body) as actix_http::BoxedPayloadStream));
    }
    next.call(req).await
}

/// Whether the request says a body follows: most requests have none, and pay nothing here.
fn has_body(req: &ServiceRequest) -> bool {
    req.headers().contains_key(header::TRANSFER_ENCODING)
        || super::declared_length(req.request()).is_some_and(|n| n > 0)
}

/// A body that fails once it falls behind its pace.
struct Deadline {
    body: Payload,
    pace: Pace,
    started: Instant,
    received: u64,
    timer: Pin<Box<Sleep>>,
    missed: bool,
}

impl Deadline {
    fn new(body: Payload, pace: Pace) -> Deadline {
        let started = Instant::now();
        Deadline { body, pace, started, received: 0, timer: Box::pin(tokio::time::sleep(pace.idle)), missed: false }
    }

    /// The next byte is due by the sooner of: `idle` from now, and the time by which the bytes
    /// received so far would have come at `min_rate` after the first `idle`.
    fn due(&self) -> Instant {
        let idle = Instant::now() + self.pace.idle;
        if self.pace.min_rate == 0 {
            return idle;
        }
        let paced =
            self.started + self.pace.idle + Duration::from_secs_f64(self.received as f64 / self.pace.min_rate as f64);
        idle.min(paced)
    }
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.missed {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.body).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                this.received += chunk.len() as u64;
                let due = this.due();
                this.timer.as_mut().reset(due);
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(end) => Poll::Ready(end),
            Poll::Pending => match this.timer.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    this.missed = true;
                    let error = std::io::Error::new(std::io::ErrorKind::TimedOut, TooSlow(this.pace));
                    Poll::Ready(Some(Err(PayloadError::Io(error))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    fn trickle(gaps_ms: &'static [u64]) -> Payload {
        let stream = futures_util::stream::iter(gaps_ms).then(|gap| async move {
            tokio::time::sleep(Duration::from_millis(*gap)).await;
            Ok::<_, PayloadError>(Bytes::from_static(b"0123456789"))
        });
        Payload::from(Box::pin(stream) as actix_http::BoxedPayloadStream)
    }

    async fn read(body: Payload, pace: Pace) -> (u64, Option<ApiError>) {
        let mut body = Deadline::new(body, pace);
        let mut got = 0;
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(chunk) => got += chunk.len() as u64,
                Err(e) => return (got, Some(refusal(&e).expect("the deadline's own error"))),
            }
        }
        (got, None)
    }

    #[actix_web::test]
    async fn a_body_that_keeps_coming_is_read_whole() {
        let pace = Pace { idle: Duration::from_millis(200), min_rate: 10 };
        let (got, refused) = read(trickle(&[50, 50, 50, 50]), pace).await;
        assert_eq!((got, refused.is_none()), (40, true));
    }

    #[actix_web::test]
    async fn a_body_that_stops_is_refused_after_the_idle_time() {
        let pace = Pace { idle: Duration::from_millis(100), min_rate: 0 };
        let (got, refused) = read(trickle(&[10, 10, 400, 10]), pace).await;
        assert_eq!(got, 20);
        assert!(matches!(refused, Some(ApiError::BodyTooSlow { .. })));
    }

    #[actix_web::test]
    async fn a_body_that_never_stops_long_but_trickles_is_refused_by_its_rate() {
        // Never idle for 150 ms, but 10 bytes every 100 ms is 100 bytes a second: under 1,000.
        let pace = Pace { idle: Duration::from_millis(150), min_rate: 1000 };
        let (got, refused) = read(trickle(&[100; 10]), pace).await;
        assert!(got < 100, "read {got} bytes");
        assert!(matches!(refused, Some(ApiError::BodyTooSlow { .. })));
    }
}
