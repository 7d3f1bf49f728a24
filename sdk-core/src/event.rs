//! The event model: what the browser SDK records and the backend ingests.
//!
//! `docs/events.md` is the wire contract; these types mirror it field for field. Serde derives
//! are behind the `serde` feature so the WebAssembly build, which only needs [`event_id`],
//! carries no serialisation code. [`Event::validate`] checks the size and shape rules that the
//! types alone cannot express; the backend runs it on every ingested event.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use thiserror::Error;

/// Length of an event id: 16 random bytes in base64url without padding.
pub const EVENT_ID_LEN: usize = 22;
/// Longest accepted `visitor_id`, in bytes.
pub const MAX_VISITOR_ID_BYTES: usize = 128;
/// Longest accepted `path`, in bytes.
pub const MAX_PATH_BYTES: usize = 2_048;
/// Longest accepted custom event `name`, in bytes.
pub const MAX_CUSTOM_NAME_BYTES: usize = 128;
/// Longest accepted `user_id` of an `identify` event, in bytes.
pub const MAX_USER_ID_BYTES: usize = 256;

const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Turns 16 random bytes into an event id: 22 characters of base64url without padding.
///
/// The caller supplies the randomness (the core has no RNG); the WebAssembly export takes it
/// from `crypto.getRandomValues`.
pub fn event_id(random: &[u8; 16]) -> String {
    let mut id = String::with_capacity(EVENT_ID_LEN);
    // Five whole 3-byte groups give 20 characters; the last byte gives the final two.
    for group in random[..15].chunks_exact(3) {
        let bits = u32::from(group[0]) << 16 | u32::from(group[1]) << 8 | u32::from(group[2]);
        for shift in [18, 12, 6, 0] {
            id.push(char::from(BASE64URL[(bits >> shift & 63) as usize]));
        }
    }
    let last = random[15];
    id.push(char::from(BASE64URL[usize::from(last >> 2)]));
    id.push(char::from(BASE64URL[usize::from((last & 3) << 4)]));
    id
}

/// Whether `id` has the shape [`event_id`] produces.
///
/// The last character carries only two bits of data, so it must be one of `A`, `Q`, `g`, `w`;
/// anything else was not made from 16 bytes.
pub fn is_valid_event_id(id: &str) -> bool {
    let bytes = id.as_bytes();
    bytes.len() == EVENT_ID_LEN
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
        && matches!(bytes[EVENT_ID_LEN - 1], b'A' | b'Q' | b'g' | b'w')
}

/// The kinds of event, as named on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum EventKind {
    /// A visitor saw a variant.
    Exposure,
    /// A page was viewed.
    Pageview,
    /// An element was clicked.
    Click,
    /// The deepest scroll reached on a page.
    Scroll,
    /// Engaged time on a page.
    Engagement,
    /// A visitor started filling in a form.
    FormStart,
    /// A form was submitted.
    FormSubmit,
    /// A named goal was reached.
    Goal,
    /// An event the app tracked itself with `track(name, props)`.
    Custom,
    /// The visitor signed in as a user of the host app.
    Identify,
}

impl EventKind {
    /// Every kind, in wire-contract order.
    pub const ALL: [EventKind; 10] = [
        Self::Exposure,
        Self::Pageview,
        Self::Click,
        Self::Scroll,
        Self::Engagement,
        Self::FormStart,
        Self::FormSubmit,
        Self::Goal,
        Self::Custom,
        Self::Identify,
    ];

    /// The wire name, e.g. `form_submit`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Exposure => "exposure",
            Self::Pageview => "pageview",
            Self::Click => "click",
            Self::Scroll => "scroll",
            Self::Engagement => "engagement",
            Self::FormStart => "form_start",
            Self::FormSubmit => "form_submit",
            Self::Goal => "goal",
            Self::Custom => "custom",
            Self::Identify => "identify",
        }
    }

    /// The kind with this wire name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

/// One event as it travels in a batch.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Event {
    /// Client-made id, the idempotency key ([`event_id`]).
    pub id: String,
    /// The visitor, 1 to 128 bytes, no control characters.
    pub visitor_id: String,
    /// Client clock, milliseconds since the Unix epoch.
    pub ts: i64,
    /// The page path, at most 2 048 bytes.
    pub path: String,
    /// The kind and its fields (flattened: `kind` sits beside the common fields on the wire).
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub payload: EventPayload,
}

/// The kind-specific part of an event, tagged by `kind` on the wire.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "kind", rename_all = "snake_case"))]
pub enum EventPayload {
    /// A visitor saw `variant` of `experiment`.
    Exposure {
        /// Experiment key.
        experiment: String,
        /// Variant name.
        variant: String,
    },
    /// A page view.
    Pageview {
        /// `document.referrer`, when there is one.
        #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
        referrer: Option<String>,
        /// The page title, when there is one.
        #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
        title: Option<String>,
    },
    /// A click on an element.
    Click {
        /// What was clicked.
        element: ElementDescription,
    },
    /// Maximum scroll depth reached on the page.
    Scroll {
        /// Percent, 0 to 100.
        depth: u8,
    },
    /// Engaged time since the page's previous engagement event.
    Engagement {
        /// Milliseconds visible and active.
        ms: u64,
    },
    /// A visitor started filling in a form.
    FormStart {
        /// The form's id or name, or "".
        form: String,
    },
    /// A form was submitted.
    FormSubmit {
        /// The form's id or name, or "".
        form: String,
        /// The form, with its `fields`.
        element: ElementDescription,
    },
    /// A named goal.
    Goal {
        /// The goal key.
        goal: String,
        /// An optional value, e.g. revenue.
        #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
        value: Option<f64>,
    },
    /// `track(name, props)`.
    Custom {
        /// 1 to 128 bytes.
        name: String,
        /// A flat object of string, number or boolean values.
        #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
        props: Option<BTreeMap<String, PropValue>>,
    },
    /// The visitor signed in to the host app.
    Identify {
        /// The host app's user id, 1 to 256 bytes.
        user_id: String,
    },
}

impl EventPayload {
    /// The kind this payload belongs to.
    pub fn kind(&self) -> EventKind {
        match self {
            Self::Exposure { .. } => EventKind::Exposure,
            Self::Pageview { .. } => EventKind::Pageview,
            Self::Click { .. } => EventKind::Click,
            Self::Scroll { .. } => EventKind::Scroll,
            Self::Engagement { .. } => EventKind::Engagement,
            Self::FormStart { .. } => EventKind::FormStart,
            Self::FormSubmit { .. } => EventKind::FormSubmit,
            Self::Goal { .. } => EventKind::Goal,
            Self::Custom { .. } => EventKind::Custom,
            Self::Identify { .. } => EventKind::Identify,
        }
    }
}

/// A value in a custom event's `props`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(untagged))]
pub enum PropValue {
    /// `true` or `false`.
    Bool(bool),
    /// Any JSON number.
    Number(f64),
    /// A string.
    Text(String),
}

/// What the SDK knows about a clicked or submitted element. Only `tag` is required; the SDK
/// has already trimmed `text` and scrubbed emails and card-like numbers from it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ElementDescription {
    /// Lowercase tag name, e.g. `button`.
    pub tag: String,
    /// Visible text, at most 256 characters.
    #[cfg_attr(feature = "serde", serde(default))]
    pub text: Option<String>,
    /// The `aria-label` attribute.
    #[cfg_attr(feature = "serde", serde(default))]
    pub aria_label: Option<String>,
    /// The `role` attribute.
    #[cfg_attr(feature = "serde", serde(default))]
    pub role: Option<String>,
    /// The `type` attribute (of a button or input).
    #[cfg_attr(feature = "serde", serde(default, rename = "type"))]
    pub element_type: Option<String>,
    /// The `href` of a link.
    #[cfg_attr(feature = "serde", serde(default))]
    pub href: Option<String>,
    /// The `id` attribute.
    #[cfg_attr(feature = "serde", serde(default))]
    pub id: Option<String>,
    /// The `name` attribute.
    #[cfg_attr(feature = "serde", serde(default))]
    pub name: Option<String>,
    /// A form's inputs, by type and name only (values are never captured).
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Vec::is_empty"))]
    pub fields: Vec<FormField>,
}

/// One input of a form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FormField {
    /// The input's `type` (`email`, `password`, …), or the tag for `textarea` and `select`.
    #[cfg_attr(feature = "serde", serde(default, rename = "type"))]
    pub field_type: Option<String>,
    /// The input's `name`.
    #[cfg_attr(feature = "serde", serde(default))]
    pub name: Option<String>,
}

/// Which rule of `docs/events.md` an event breaks.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EventError {
    /// The id is not 22 characters of base64url made from 16 bytes.
    #[error("event id {0:?} is not 22 characters of base64url")]
    InvalidId(String),
    /// The visitor id is empty, longer than 128 bytes or has control characters.
    #[error("visitor_id must be 1 to 128 bytes without control characters")]
    InvalidVisitorId,
    /// The path is longer than 2 048 bytes.
    #[error("path is {0} bytes, over the 2048-byte limit")]
    PathTooLong(usize),
    /// A scroll depth above 100 percent.
    #[error("scroll depth {0} is over 100 percent")]
    ScrollDepthOutOfRange(u8),
    /// A custom event name that is empty or longer than 128 bytes.
    #[error("custom event name must be 1 to 128 bytes")]
    InvalidCustomName,
    /// An `identify` user id that is empty or longer than 256 bytes.
    #[error("user_id must be 1 to 256 bytes")]
    InvalidUserId,
    /// A required string field (experiment, variant, goal, element tag) is empty.
    #[error("field {0} must not be empty")]
    EmptyField(&'static str),
}

impl Event {
    /// The event's kind.
    pub fn kind(&self) -> EventKind {
        self.payload.kind()
    }

    /// Checks the rules of `docs/events.md` that the types cannot express.
    pub fn validate(&self) -> Result<(), EventError> {
        if !is_valid_event_id(&self.id) {
            return Err(EventError::InvalidId(self.id.clone()));
        }
        if !is_valid_visitor_id(&self.visitor_id) {
            return Err(EventError::InvalidVisitorId);
        }
        if self.path.len() > MAX_PATH_BYTES {
            return Err(EventError::PathTooLong(self.path.len()));
        }
        let required = |value: &str, field| {
            if value.is_empty() { Err(EventError::EmptyField(field)) } else { Ok(()) }
        };
        match &self.payload {
            EventPayload::Exposure { experiment, variant } => {
                required(experiment, "experiment")?;
                required(variant, "variant")
            }
            EventPayload::Click { element } | EventPayload::FormSubmit { element, .. } => {
                required(&element.tag, "element.tag")
            }
            EventPayload::Scroll { depth } if *depth > 100 => {
                Err(EventError::ScrollDepthOutOfRange(*depth))
            }
            EventPayload::Goal { goal, .. } => required(goal, "goal"),
            EventPayload::Custom { name, .. }
                if name.is_empty() || name.len() > MAX_CUSTOM_NAME_BYTES =>
            {
                Err(EventError::InvalidCustomName)
            }
            EventPayload::Identify { user_id }
                if user_id.is_empty() || user_id.len() > MAX_USER_ID_BYTES =>
            {
                Err(EventError::InvalidUserId)
            }
            _ => Ok(()),
        }
    }
}

/// Whether `visitor_id` is 1 to 128 bytes of UTF-8 without control characters.
pub fn is_valid_visitor_id(visitor_id: &str) -> bool {
    (1..=MAX_VISITOR_ID_BYTES).contains(&visitor_id.len())
        && !visitor_id.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_id_is_base64url_of_the_bytes() {
        assert_eq!(event_id(&[0; 16]), "AAAAAAAAAAAAAAAAAAAAAA");
        assert_eq!(event_id(&[0xff; 16]), "_____________________w");
        // RFC 4648 test string "foobar" padded to 16 bytes with zeros.
        let mut bytes = [0u8; 16];
        bytes[..6].copy_from_slice(b"foobar");
        assert_eq!(event_id(&bytes), "Zm9vYmFyAAAAAAAAAAAAAA");
    }

    #[test]
    fn every_made_id_is_valid_and_distinct_bytes_give_distinct_ids() {
        let mut seen = std::collections::HashSet::new();
        for n in 0u32..4_096 {
            let mut bytes = [0u8; 16];
            bytes[12..].copy_from_slice(&n.to_be_bytes());
            bytes[0] = (n % 251) as u8;
            let id = event_id(&bytes);
            assert!(is_valid_event_id(&id), "{id}");
            assert!(seen.insert(id));
        }
    }

    #[test]
    fn malformed_ids_are_rejected() {
        assert!(!is_valid_event_id(""));
        assert!(!is_valid_event_id("AAAAAAAAAAAAAAAAAAAAA"));
        assert!(!is_valid_event_id("AAAAAAAAAAAAAAAAAAAAAB"));
        assert!(!is_valid_event_id("AAAAAAAAAAAAAAAAAAAA+A"));
        assert!(!is_valid_event_id("AAAAAAAAAAAAAAAAAAAAAAA"));
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EventKind::parse("Exposure"), None);
    }

    fn event(payload: EventPayload) -> Event {
        Event {
            id: event_id(&[7; 16]),
            visitor_id: "vis-1".into(),
            ts: 1_733_230_000_000,
            path: "/pricing".into(),
            payload,
        }
    }

    #[test]
    fn validation_applies_the_contract_limits() {
        assert_eq!(event(EventPayload::Scroll { depth: 100 }).validate(), Ok(()));
        assert_eq!(
            event(EventPayload::Scroll { depth: 101 }).validate(),
            Err(EventError::ScrollDepthOutOfRange(101))
        );
        let mut bad_visitor = event(EventPayload::Engagement { ms: 10 });
        bad_visitor.visitor_id = "a\u{7}b".into();
        assert_eq!(bad_visitor.validate(), Err(EventError::InvalidVisitorId));
        bad_visitor.visitor_id = "x".repeat(129);
        assert_eq!(bad_visitor.validate(), Err(EventError::InvalidVisitorId));
        let mut long_path = event(EventPayload::Pageview { referrer: None, title: None });
        long_path.path = "/".repeat(2_049);
        assert_eq!(long_path.validate(), Err(EventError::PathTooLong(2_049)));
        let custom = EventPayload::Custom { name: String::new(), props: None };
        assert_eq!(event(custom).validate(), Err(EventError::InvalidCustomName));
        let exposure = EventPayload::Exposure { experiment: "e".into(), variant: String::new() };
        assert_eq!(event(exposure).validate(), Err(EventError::EmptyField("variant")));
        let identify = EventPayload::Identify { user_id: "u".repeat(257) };
        assert_eq!(event(identify).validate(), Err(EventError::InvalidUserId));
    }

    #[cfg(feature = "serde")]
    #[test]
    fn the_documented_wire_shapes_parse() {
        let json = r#"{ "id": "AAAAAAAAAAAAAAAAAAAAAA", "visitor_id": "v", "ts": 1733230000000,
            "path": "/pricing", "kind": "form_submit", "form": "signup",
            "element": { "tag": "form", "text": null, "type": null,
                "fields": [ { "type": "email", "name": "email" } ] } }"#;
        let parsed: Event = serde_json::from_str(json).unwrap();
        assert_eq!(parsed.kind(), EventKind::FormSubmit);
        assert_eq!(parsed.validate(), Ok(()));
        let EventPayload::FormSubmit { element, .. } = &parsed.payload else { unreachable!() };
        assert_eq!(element.fields[0].field_type.as_deref(), Some("email"));

        let custom = r#"{ "id": "AAAAAAAAAAAAAAAAAAAAAA", "visitor_id": "v", "ts": 1,
            "path": "/", "kind": "custom", "name": "plan", "props": { "tier": "pro", "n": 2,
            "annual": true } }"#;
        let parsed: Event = serde_json::from_str(custom).unwrap();
        let back: Event = serde_json::from_str(&serde_json::to_string(&parsed).unwrap()).unwrap();
        assert_eq!(back, parsed);
        assert!(serde_json::from_str::<Event>(&custom.replace("custom", "nope")).is_err());
    }
}
