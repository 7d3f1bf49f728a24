//! `vibariant-core`: the logic every Vibariant runtime shares.
//!
//! The browser SDK and the edge worker run it as WebAssembly; the backend links it natively.
//! One implementation means a visitor gets the same variant everywhere, and a click is scored
//! the same way wherever it is seen.
//!
//! - [`assignment`]: which variant a visitor gets (FNV-1a buckets, weighted ranges scaled by
//!   coverage, forced and sticky overrides).
//! - [`event`]: the event model of `docs/events.md` and client-made event ids.
//! - [`outbox`]: the batch policy: flush triggers, 64 KB batches, retries and what to drop.
//! - [`goal`]: heuristics that score a clicked or submitted element for conversion intent.
//!
//! The crate does no I/O and keeps no clock or random generator: time and randomness come in
//! as arguments, which keeps it deterministic and small.
//!
//! Features: `serde` derives (de)serialisation for the event types (the backend uses it);
//! `wasm` adds the wasm-bindgen exports of the browser build (`scripts/build-wasm`).

// The browser build is `no_std`: std's panic machinery formats messages, which drags `core::fmt`
// into the module and more than doubles its size. `wasm.rs` brings the allocator and a panic
// handler that traps. Every other build (native, the edge worker's wasm) keeps std.
#![cfg_attr(all(target_arch = "wasm32", feature = "wasm"), no_std)]

extern crate alloc;

pub mod assignment;
pub mod event;
pub mod goal;
pub mod outbox;
mod text;

#[cfg(feature = "wasm")]
// The wasm-bindgen macros expand to unsafe glue; this module writes none by hand.
#[allow(unsafe_code)]
mod wasm;

pub use assignment::{
    Assignment, AssignmentError, AssignmentRequest, BUCKETS, assign, bucket, forced_variant,
    forced_variants, resolve, variant_index,
};
pub use event::{ElementDescription, Event, EventError, EventKind, EventPayload, event_id};
pub use goal::{CANDIDATE_THRESHOLD, GoalCandidate, GoalCategory, score_element};
pub use outbox::{Batch, EventHandle, FlushReason, Outbox, OutboxConfig, Push, Settlement};
