//! The batch policy: when to send queued events, how to cut them into batches, and what to do
//! with a batch after the server answers.
//!
//! The policy is payload-agnostic. The browser wrapper serialises each event with
//! `JSON.stringify`, keeps the text in a map keyed by an [`EventHandle`] (a number it gives
//! each event), and gives the [`Outbox`] only the handle and the UTF-8 byte length. A number
//! rather than the event's string id: it crosses into WebAssembly without an allocation or
//! any string glue. The outbox answers four questions:
//!
//! - **Is a flush due?** ([`Outbox::due`]) When [`OutboxConfig::flush_count`] events wait, when
//!   the oldest has waited [`OutboxConfig::flush_age_ms`], when a retry's backoff has run out,
//!   or at once when the page is being hidden (the last chance to send, backoff or not).
//! - **What goes in the next batch?** ([`Outbox::take_batch`]) The oldest events, as many as fit
//!   in [`OutboxConfig::max_batch_bytes`] (64 000: the `sendBeacon`/keepalive ceiling) counting
//!   the `{"events":[` … `]}` envelope and the commas between events.
//! - **What happens after the answer?** ([`Outbox::settle`]) 2xx: delivered. Network error
//!   (status 0), 408, 429 and 5xx: the events go back to the front of the queue and sending
//!   pauses for an exponential backoff with jitter; an event that has failed
//!   [`OutboxConfig::max_attempts`] times is given up. Any other status (a non-retryable 4xx,
//!   an unexpected 1xx or 3xx) drops the batch: sending it again would fail the same way.
//! - **What if the queue is full?** ([`Outbox::push`]) The oldest queued event is dropped to
//!   make room (recent behaviour matters more than old), and the caller learns which one, so it
//!   can forget the payload. An event too large for any batch is refused at once.
//!
//! Time (`now_ms`, milliseconds as JavaScript's `Date.now()` gives them) and randomness (the
//! jitter, a number in `0..1`) come in as arguments: the core has no clock and no RNG.

use alloc::vec::Vec;

/// The batch size limit of `docs/events.md`, in bytes of JSON.
pub const MAX_BATCH_BYTES: usize = 64_000;

/// Bytes of the batch envelope around the events: `{"events":[` and `]}`.
pub const ENVELOPE_BYTES: usize = r#"{"events":[]}"#.len();

/// The caller's number for a queued event, unique among the events it has queued.
pub type EventHandle = u32;

/// Tunables of the batch policy. [`Default`] gives the values the browser SDK uses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutboxConfig {
    /// Most events kept waiting; pushing more drops the oldest.
    pub max_queued: usize,
    /// Flush as soon as this many events wait.
    pub flush_count: usize,
    /// Flush once the oldest waiting event is this old, in milliseconds.
    pub flush_age_ms: f64,
    /// Largest batch body, in bytes.
    pub max_batch_bytes: usize,
    /// Sending attempts per event before it is given up.
    pub max_attempts: u32,
    /// Backoff after the first failure, in milliseconds; it doubles with each further failure.
    pub base_delay_ms: f64,
    /// Longest backoff, in milliseconds.
    pub max_delay_ms: f64,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            max_queued: 500,
            flush_count: 20,
            flush_age_ms: 5_000.0,
            max_batch_bytes: MAX_BATCH_BYTES,
            max_attempts: 6,
            base_delay_ms: 1_000.0,
            max_delay_ms: 60_000.0,
        }
    }
}

/// What [`Outbox::push`] did with an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Push {
    /// Queued; nothing was dropped.
    Queued,
    /// Queued, and the oldest waiting event (this one) was dropped to make room.
    QueuedDroppingOldest(EventHandle),
    /// Refused: even alone it would not fit in a batch.
    TooLarge,
}

/// Why a flush is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlushReason {
    /// Enough events are waiting.
    Count,
    /// The oldest event has waited long enough.
    Age,
    /// A backoff after a failed send has run out.
    Retry,
    /// The page is being hidden or unloaded: send everything now, with `sendBeacon`.
    PageHide,
}

/// Events taken from the queue to be sent together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// Handle to pass back to [`Outbox::settle`].
    pub id: u32,
    /// The events, oldest first; the body is `{"events":[` + their JSON joined by `,` + `]}`.
    pub events: Vec<EventHandle>,
    /// Size of that body in bytes.
    pub bytes: usize,
}

/// What [`Outbox::settle`] concluded from the server's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Settlement {
    /// 2xx: these events are stored on the server.
    Delivered(Vec<EventHandle>),
    /// Non-retryable status: these events were dropped.
    Rejected(Vec<EventHandle>),
    /// Retryable failure: the batch's events are queued again and sending pauses until
    /// `retry_at_ms`; `given_up` lists the events that used their last attempt.
    Retrying {
        /// When sending may resume, in milliseconds.
        retry_at_ms: f64,
        /// Events dropped for having failed too often.
        given_up: Vec<EventHandle>,
    },
    /// No batch in flight has this id (already settled, or never taken).
    UnknownBatch,
}

impl Settlement {
    /// The events the caller can forget: delivered or dropped.
    pub fn finished(&self) -> &[EventHandle] {
        match self {
            Self::Delivered(ids) | Self::Rejected(ids) => ids,
            Self::Retrying { given_up, .. } => given_up,
            Self::UnknownBatch => &[],
        }
    }

    /// [`Settlement::finished`], by value: no copy of the list.
    pub fn into_finished(self) -> Vec<EventHandle> {
        match self {
            Self::Delivered(ids) | Self::Rejected(ids) => ids,
            Self::Retrying { given_up, .. } => given_up,
            Self::UnknownBatch => Vec::new(),
        }
    }
}

/// Whether a send that ended with `status` is worth retrying (0 stands for a network error).
pub fn is_retryable(status: u16) -> bool {
    matches!(status, 0 | 408 | 429 | 500..=599)
}

#[derive(Debug, Clone)]
struct Queued {
    event: EventHandle,
    bytes: usize,
    queued_at_ms: f64,
    attempts: u32,
}

#[derive(Debug)]
struct InFlight {
    batch: u32,
    events: Vec<Queued>,
}

/// The queue of unsent events and the state of the retry schedule. See the module doc.
#[derive(Debug)]
pub struct Outbox {
    config: OutboxConfig,
    /// Oldest first. A `Vec` rather than a `VecDeque`: the queue holds a few hundred small
    /// entries at most, so shifting them on the rare front removal costs nothing noticeable,
    /// while `VecDeque`'s ring buffer (growth, rotation, split) costs kilobytes of WebAssembly.
    queue: Vec<Queued>,
    in_flight: Vec<InFlight>,
    next_batch: u32,
    consecutive_failures: u32,
    retry_at_ms: Option<f64>,
    dropped: u64,
}

impl Default for Outbox {
    fn default() -> Self {
        Self::new(OutboxConfig::default())
    }
}

impl Outbox {
    /// An empty outbox with this policy.
    pub fn new(config: OutboxConfig) -> Self {
        Self {
            config,
            queue: Vec::new(),
            in_flight: Vec::new(),
            next_batch: 1,
            consecutive_failures: 0,
            retry_at_ms: None,
            dropped: 0,
        }
    }

    /// The policy in force.
    pub fn config(&self) -> &OutboxConfig {
        &self.config
    }

    /// Number of events waiting (not counting those in flight).
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Number of batches sent and not yet settled.
    pub fn batches_in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Events dropped so far: evicted from a full queue, refused as too large, rejected by the
    /// server, or given up after too many attempts.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// When sending may resume after a failure, if a backoff is running.
    pub fn retry_at_ms(&self) -> Option<f64> {
        self.retry_at_ms
    }

    /// Queues an event whose JSON is `bytes` long.
    pub fn push(&mut self, event: EventHandle, bytes: usize, now_ms: f64) -> Push {
        if ENVELOPE_BYTES.saturating_add(bytes) > self.config.max_batch_bytes {
            self.dropped += 1;
            return Push::TooLarge;
        }
        let evicted = if self.queue.len() >= self.config.max_queued.max(1) {
            self.dropped += 1;
            self.pop_oldest().map(|oldest| oldest.event)
        } else {
            None
        };
        self.queue.push(Queued { event, bytes, queued_at_ms: now_ms, attempts: 0 });
        match evicted {
            Some(oldest) => Push::QueuedDroppingOldest(oldest),
            None => Push::Queued,
        }
    }

    /// Whether to flush now, and why. Backoff holds back every reason except page hide.
    pub fn due(&self, now_ms: f64, page_hidden: bool) -> Option<FlushReason> {
        let oldest = self.queue.first()?;
        if page_hidden {
            return Some(FlushReason::PageHide);
        }
        if let Some(retry_at_ms) = self.retry_at_ms {
            return (now_ms >= retry_at_ms).then_some(FlushReason::Retry);
        }
        if self.queue.len() >= self.config.flush_count {
            Some(FlushReason::Count)
        } else if now_ms - oldest.queued_at_ms >= self.config.flush_age_ms {
            Some(FlushReason::Age)
        } else {
            None
        }
    }

    /// Takes the oldest events that fit in one batch, or `None` when the queue is empty.
    ///
    /// Call it again for the next batch; at page hide, call it until it returns `None`.
    pub fn take_batch(&mut self) -> Option<Batch> {
        let mut bytes = ENVELOPE_BYTES;
        let mut count = 0;
        for event in &self.queue {
            let comma = usize::from(count > 0);
            if bytes + comma + event.bytes > self.config.max_batch_bytes {
                break;
            }
            bytes += comma + event.bytes;
            count += 1;
        }
        if count == 0 {
            return None;
        }

        // `split_off` rather than `drain`: same effect, a fraction of the WebAssembly code.
        let rest = self.queue.split_off(count);
        let events = core::mem::replace(&mut self.queue, rest);
        let id = self.next_batch;
        self.next_batch = self.next_batch.wrapping_add(1).max(1);
        let handles = events.iter().map(|queued| queued.event).collect();
        self.in_flight.push(InFlight { batch: id, events });
        Some(Batch { id, events: handles, bytes })
    }

    /// Records the answer to a batch: an HTTP status, or 0 for a network error. `random` is a
    /// number in `0..1` for the jitter (out-of-range values are clamped, NaN counts as 0.5).
    pub fn settle(&mut self, batch: u32, status: u16, now_ms: f64, random: f64) -> Settlement {
        // `retain` rather than `position` + `swap_remove`: no index, so no bounds-check panic
        // (and its formatting code) in the WebAssembly build.
        let mut settled = None;
        self.in_flight.retain_mut(|flight| {
            if settled.is_none() && flight.batch == batch {
                settled = Some(core::mem::take(&mut flight.events));
                return false;
            }
            true
        });
        let Some(events) = settled else {
            return Settlement::UnknownBatch;
        };
        let handles = |events: Vec<Queued>| events.into_iter().map(|queued| queued.event).collect();

        if (200..300).contains(&status) {
            self.consecutive_failures = 0;
            self.retry_at_ms = None;
            return Settlement::Delivered(handles(events));
        }
        if !is_retryable(status) {
            // The server answered, so it is reachable: no reason to keep backing off.
            self.consecutive_failures = 0;
            self.retry_at_ms = None;
            self.dropped += events.len() as u64;
            return Settlement::Rejected(handles(events));
        }

        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        let retry_at_ms = now_ms + self.backoff_ms(random);
        self.retry_at_ms = Some(retry_at_ms);

        let mut spent = Vec::new();
        let mut queue = Vec::with_capacity(events.len() + self.queue.len());
        for mut queued in events {
            queued.attempts += 1;
            if queued.attempts >= self.config.max_attempts {
                spent.push(queued.event);
            } else {
                queue.push(queued);
            }
        }
        // Back to the front in their original order, so the oldest still go first.
        queue.append(&mut self.queue);
        // Then the queue is trimmed to its limit from the front (the oldest).
        let excess = queue.len().saturating_sub(self.config.max_queued.max(1));
        self.queue = queue.split_off(excess);
        // Reported as the events were taken out one by one and the list then reversed: the
        // trimmed ones newest first, then the spent ones oldest first.
        let mut given_up: Vec<EventHandle> =
            queue.into_iter().rev().map(|queued| queued.event).collect();
        given_up.append(&mut spent);
        self.dropped += given_up.len() as u64;
        Settlement::Retrying { retry_at_ms, given_up }
    }

    /// Removes the oldest queued event. Guarded by hand so that `Vec::remove`'s bounds check,
    /// and its panic message, fold away.
    fn pop_oldest(&mut self) -> Option<Queued> {
        if self.queue.is_empty() { None } else { Some(self.queue.remove(0)) }
    }

    /// The pause after the current run of failures: `base * 2^(failures - 1)` capped at
    /// `max_delay_ms`, of which the upper half is random ("equal jitter"), so clients that
    /// failed together do not retry together, yet none retries almost at once.
    fn backoff_ms(&self, random: f64) -> f64 {
        let mut delay = self.config.base_delay_ms;
        for _ in 1..self.consecutive_failures {
            if delay >= self.config.max_delay_ms {
                break;
            }
            delay *= 2.0;
        }
        let delay = delay.min(self.config.max_delay_ms);
        let random = if random.is_nan() { 0.5 } else { random.clamp(0.0, 1.0) };
        delay / 2.0 + delay / 2.0 * random
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outbox_with(config: OutboxConfig) -> Outbox {
        Outbox::new(config)
    }

    /// Queues events 0..count.
    fn fill(outbox: &mut Outbox, count: EventHandle, bytes: usize, now_ms: f64) {
        for n in 0..count {
            assert_eq!(outbox.push(n, bytes, now_ms), Push::Queued);
        }
    }

    #[test]
    fn flush_is_due_on_count_age_and_page_hide() {
        let mut outbox = Outbox::default();
        assert_eq!(outbox.due(0.0, true), None, "nothing to send");
        fill(&mut outbox, 19, 100, 1_000.0);
        assert_eq!(outbox.due(1_000.0, false), None);
        assert_eq!(outbox.due(5_999.0, false), None);
        assert_eq!(outbox.due(6_000.0, false), Some(FlushReason::Age));
        assert_eq!(outbox.due(1_000.0, true), Some(FlushReason::PageHide));
        outbox.push(19, 100, 1_001.0);
        assert_eq!(outbox.due(1_001.0, false), Some(FlushReason::Count));
    }

    #[test]
    fn batches_stay_under_the_byte_limit_counting_envelope_and_commas() {
        let mut outbox = Outbox::default();
        // 13 + 100 * 639 + 99 commas = 64 012 > 64 000, so only 99 events fit the first batch.
        fill(&mut outbox, 250, 639, 0.0);
        let first = outbox.take_batch().unwrap();
        assert_eq!(first.events.len(), 99);
        assert_eq!(first.bytes, ENVELOPE_BYTES + 99 * 639 + 98);
        assert!(first.bytes <= MAX_BATCH_BYTES);
        assert_eq!(first.events[0], 0);
        let mut total = first.events.len();
        while let Some(batch) = outbox.take_batch() {
            assert!(batch.bytes <= MAX_BATCH_BYTES);
            total += batch.events.len();
        }
        assert_eq!(total, 250);
        assert_eq!(outbox.batches_in_flight(), 3);
    }

    #[test]
    fn an_event_that_fits_exactly_is_sent_alone_and_a_larger_one_is_refused() {
        let mut outbox = Outbox::default();
        assert_eq!(outbox.push(0, MAX_BATCH_BYTES - ENVELOPE_BYTES + 1, 0.0), Push::TooLarge);
        assert_eq!(outbox.push(1, MAX_BATCH_BYTES - ENVELOPE_BYTES, 0.0), Push::Queued);
        outbox.push(2, 10, 0.0);
        assert_eq!(outbox.take_batch().unwrap().events, [1]);
        assert_eq!(outbox.take_batch().unwrap().events, [2]);
        assert_eq!(outbox.dropped(), 1);
    }

    #[test]
    fn a_full_queue_drops_the_oldest_and_says_which() {
        let mut outbox = outbox_with(OutboxConfig { max_queued: 3, ..OutboxConfig::default() });
        fill(&mut outbox, 3, 10, 0.0);
        assert_eq!(outbox.push(3, 10, 0.0), Push::QueuedDroppingOldest(0));
        assert_eq!(outbox.take_batch().unwrap().events, [1, 2, 3]);
        assert_eq!(outbox.dropped(), 1);
    }

    #[test]
    fn delivered_batches_are_finished() {
        let mut outbox = Outbox::default();
        fill(&mut outbox, 3, 10, 0.0);
        let batch = outbox.take_batch().unwrap();
        let settled = outbox.settle(batch.id, 202, 10.0, 0.3);
        assert_eq!(settled, Settlement::Delivered(vec![0, 1, 2]));
        assert_eq!(outbox.settle(batch.id, 202, 10.0, 0.3), Settlement::UnknownBatch);
        assert_eq!((outbox.queued(), outbox.batches_in_flight(), outbox.dropped()), (0, 0, 0));
    }

    #[test]
    fn non_retryable_4xx_drops_and_retryable_statuses_keep() {
        for status in [400, 401, 403, 404, 413, 422, 301] {
            let mut outbox = Outbox::default();
            fill(&mut outbox, 2, 10, 0.0);
            let batch = outbox.take_batch().unwrap();
            let settled = outbox.settle(batch.id, status, 0.0, 0.5);
            assert!(matches!(settled, Settlement::Rejected(ref ids) if ids.len() == 2), "{status}");
            assert_eq!(outbox.queued(), 0);
            assert_eq!(outbox.retry_at_ms(), None);
        }
        for status in [0, 408, 429, 500, 502, 503, 599] {
            let mut outbox = Outbox::default();
            fill(&mut outbox, 2, 10, 0.0);
            let batch = outbox.take_batch().unwrap();
            let settled = outbox.settle(batch.id, status, 0.0, 0.5);
            assert!(
                matches!(settled, Settlement::Retrying { ref given_up, .. }
                if given_up.is_empty()),
                "{status}"
            );
            assert_eq!(outbox.queued(), 2);
        }
    }

    #[test]
    fn retried_events_go_back_in_front_in_order() {
        let mut outbox = Outbox::default();
        fill(&mut outbox, 2, 10, 0.0);
        let batch = outbox.take_batch().unwrap();
        outbox.push(2, 10, 1.0);
        outbox.settle(batch.id, 503, 2.0, 0.0);
        assert_eq!(outbox.take_batch().unwrap().events, [0, 1, 2]);
    }

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap_and_blocks_flushes() {
        let mut outbox = Outbox::new(OutboxConfig { max_attempts: 100, ..OutboxConfig::default() });
        outbox.push(0, 10, 0.0);
        let mut expected_delay = 1_000.0;
        for _ in 0..10 {
            let batch = outbox.take_batch().unwrap();
            let Settlement::Retrying { retry_at_ms, .. } = outbox.settle(batch.id, 0, 0.0, 1.0)
            else {
                panic!("network errors are retried");
            };
            // random = 1 gives the whole delay.
            assert_eq!(retry_at_ms, expected_delay);
            assert_eq!(outbox.due(retry_at_ms - 1.0, false), None, "backoff holds the flush");
            assert_eq!(outbox.due(retry_at_ms, false), Some(FlushReason::Retry));
            assert_eq!(outbox.due(0.0, true), Some(FlushReason::PageHide));
            expected_delay = f64::min(expected_delay * 2.0, 60_000.0);
        }
        assert_eq!(expected_delay, 60_000.0);
        let batch = outbox.take_batch().unwrap();
        let Settlement::Retrying { retry_at_ms, .. } = outbox.settle(batch.id, 500, 0.0, 0.0)
        else {
            panic!("5xx is retried");
        };
        assert_eq!(retry_at_ms, 30_000.0, "random = 0 gives half the capped delay");
        let batch = outbox.take_batch().unwrap();
        outbox.settle(batch.id, 204, 1.0, f64::NAN);
        assert_eq!(outbox.retry_at_ms(), None, "success resets the backoff");
    }

    #[test]
    fn events_are_given_up_after_max_attempts() {
        let mut outbox = Outbox::default();
        outbox.push(0, 10, 0.0);
        for attempt in 1..=6 {
            let batch = outbox.take_batch().unwrap();
            let settled = outbox.settle(batch.id, 503, 0.0, 0.5);
            let given_up = settled.finished();
            assert_eq!(given_up.is_empty(), attempt < 6, "attempt {attempt}");
            assert_eq!(settled.clone().into_finished(), given_up);
        }
        assert_eq!(outbox.queued(), 0);
        assert_eq!(outbox.dropped(), 1);
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        let mut outbox = outbox_with(OutboxConfig {
            max_queued: 0,
            flush_count: 0,
            max_batch_bytes: 0,
            max_attempts: 0,
            ..OutboxConfig::default()
        });
        assert_eq!(outbox.push(0, usize::MAX, f64::NAN), Push::TooLarge);
        assert_eq!(outbox.take_batch(), None);
        assert_eq!(outbox.settle(42, 0, f64::INFINITY, -3.0), Settlement::UnknownBatch);
        let mut outbox = outbox_with(OutboxConfig { max_queued: 0, ..OutboxConfig::default() });
        assert_eq!(outbox.push(0, 1, 0.0), Push::Queued);
        assert_eq!(outbox.push(1, 1, 0.0), Push::QueuedDroppingOldest(0));
    }
}
