//! The WebAssembly exports used by the browser SDK (`@vibariant/sdk`).
//!
//! Thin adapters over the Rust API with plain JavaScript types: strings, numbers, arrays.
//! They avoid `std::fmt` and serde so the module stays a few kilobytes: errors cross as a
//! JavaScript `Error` whose message is the error kind (`weights_do_not_sum_to_one`), and goal
//! scores as a two-number array.
//!
//! Only what the SDK calls is exported: every export costs glue and WebAssembly that each
//! visitor downloads. The SDK parses `vv_force` and makes event ids itself (with
//! `crypto.getRandomValues`), and the full Rust API stays available natively.
//!
//! Exports:
//! - `resolve(visitor, experiment, weights, coverage, forced?, sticky?)`: the variant index
//!   (forced, then sticky, then hashed), or `undefined` when the visitor is not in the
//!   experiment; throws on invalid input.
//! - `scoreElement(tag, text?, ariaLabel?, role?, type?, href?, id?, name?, fields?)`:
//!   `[categoryIndex, confidence]`, or `[]`; `fields` holds one `type name` pair per line.
//! - `goalCategory(index)`: the category's snake_case name; `goalThreshold()`: the threshold.
//! - `new Outbox()`: the batch policy of [`crate::outbox`] with its default limits.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use wasm_bindgen::prelude::*;

use crate::assignment::{self, AssignmentError, AssignmentRequest};
use crate::event::{ElementDescription, FormField};
use crate::goal::{self, GoalCategory};
use crate::outbox::{self, FlushReason, Push};
use crate::text::{split_byte, split_once_byte};

/// The heap allocator (the crate is `no_std` here, see `lib.rs`): a coalescing free list,
/// a fifth of the size of std's dlmalloc.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
// SAFETY: this module is built without the `atomics` target feature, so it runs on one thread
// and the allocator is never entered concurrently.
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };

/// Panics trap without formatting a message: formatting would pull `core::fmt` into the
/// module. The SDK wrapper catches the trap as a JavaScript exception and falls back.
#[cfg(target_arch = "wasm32")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

fn to_js(error: AssignmentError) -> JsError {
    JsError::new(error.kind())
}

/// Forced, then sticky, then hashed variant index; `undefined` when not in the experiment.
#[wasm_bindgen]
pub fn resolve(
    visitor_id: &str,
    experiment_key: &str,
    weights: &[f64],
    coverage: f64,
    forced: Option<u32>,
    sticky: Option<u32>,
) -> Result<Option<u32>, JsError> {
    let request = AssignmentRequest {
        visitor_id,
        experiment_key,
        weights,
        coverage,
        forced: forced.map(|index| index as usize),
        sticky: sticky.map(|index| index as usize),
    };
    let assignment = assignment::resolve(&request).map_err(to_js)?;
    Ok(assignment.variant().map(|index| index as u32))
}

/// Scores an element: `[categoryIndex, confidence]`, or an empty array when nothing matches.
#[wasm_bindgen(js_name = scoreElement)]
#[allow(clippy::too_many_arguments)] // One plain argument per attribute keeps serde out.
pub fn score_element(
    tag: &str,
    text: Option<String>,
    aria_label: Option<String>,
    role: Option<String>,
    element_type: Option<String>,
    href: Option<String>,
    id: Option<String>,
    name: Option<String>,
    fields: Option<String>,
) -> Vec<f64> {
    // Split at `\n` rather than with `lines()`, which goes through `core`'s string searcher. A
    // `\r` left at a line's end changes nothing: `normalise` reads it as a word separator and
    // the name is trimmed.
    let fields = split_byte(fields.as_deref().unwrap_or_default(), b'\n')
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let (field_type, name) = split_once_byte(line, b' ').unwrap_or((line, ""));
            let present = |value: &str| (!value.is_empty()).then(|| value.to_owned());
            FormField { field_type: present(field_type), name: present(name.trim()) }
        })
        .collect();
    let element = ElementDescription {
        tag: tag.into(),
        text,
        aria_label,
        role,
        element_type,
        href,
        id,
        name,
        fields,
    };
    match goal::score_element(&element) {
        Some(candidate) => {
            vec![candidate.category.index() as f64, f64::from(candidate.confidence)]
        }
        None => Vec::new(),
    }
}

/// The snake_case name of the goal category at `index` of a `scoreElement` result.
#[wasm_bindgen(js_name = goalCategory)]
pub fn goal_category(index: u32) -> Option<String> {
    GoalCategory::ALL.get(index as usize).map(|category| category.as_str().into())
}

/// Confidence from which a scored element is a goal candidate.
#[wasm_bindgen(js_name = goalThreshold)]
pub fn goal_threshold() -> f64 {
    f64::from(goal::CANDIDATE_THRESHOLD)
}

/// The batch policy as a small stateful object. Event payloads stay in JavaScript, keyed by
/// a numeric handle the SDK gives each event.
#[wasm_bindgen(js_name = Outbox)]
#[derive(Debug, Default)]
pub struct WasmOutbox(outbox::Outbox);

#[wasm_bindgen(js_class = Outbox)]
impl WasmOutbox {
    /// An outbox with the default policy (`OutboxConfig::default`).
    #[wasm_bindgen(constructor)]
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues event `handle`, whose JSON is `bytes` long (UTF-8). Returns the handle of an
    /// event dropped by this call (the oldest, to make room, or `handle` itself if it can never
    /// fit a batch), so the caller can forget its payload; `undefined` when nothing was dropped.
    pub fn push(&mut self, handle: u32, bytes: u32, now_ms: f64) -> Option<u32> {
        match self.0.push(handle, bytes as usize, now_ms) {
            Push::Queued => None,
            Push::QueuedDroppingOldest(oldest) => Some(oldest),
            Push::TooLarge => Some(handle),
        }
    }

    /// Why a flush is due: 0 not due, 1 count, 2 age, 3 retry, 4 page hide.
    pub fn due(&self, now_ms: f64, page_hidden: bool) -> u8 {
        match self.0.due(now_ms, page_hidden) {
            None => 0,
            Some(FlushReason::Count) => 1,
            Some(FlushReason::Age) => 2,
            Some(FlushReason::Retry) => 3,
            Some(FlushReason::PageHide) => 4,
        }
    }

    /// The next batch as a `Uint32Array` `[batchId, ...eventHandles]` (events oldest first),
    /// or `undefined` when the queue is empty. Pass `batchId` back to `settle`. A plain array
    /// rather than an object: a wasm-bindgen class costs glue and a `free()` the caller must
    /// not forget.
    pub fn take(&mut self) -> Option<Vec<u32>> {
        self.0.take_batch().map(|batch| {
            let mut taken = Vec::with_capacity(batch.events.len() + 1);
            taken.push(batch.id);
            taken.extend_from_slice(&batch.events);
            taken
        })
    }

    /// Records the answer to batch `batch` (HTTP status, 0 for a network error; `random` in
    /// `0..1` for jitter). Returns the handles whose payloads can be forgotten (a
    /// `Uint32Array`): delivered or dropped. Retried events stay queued; see `retryAt`.
    pub fn settle(&mut self, batch: u32, status: u16, now_ms: f64, random: f64) -> Vec<u32> {
        self.0.settle(batch, status, now_ms, random).into_finished()
    }

    /// When sending may resume after a failure, or `undefined`.
    #[wasm_bindgen(getter, js_name = retryAt)]
    pub fn retry_at(&self) -> Option<f64> {
        self.0.retry_at_ms()
    }
}
