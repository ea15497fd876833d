//! The outbound-request guard: which URLs and addresses a client may reach.
//!
//! WebFinger and host-meta lookups are made on behalf of strangers (anyone
//! can ask a server to resolve `victim@169.254.169.254`), so by default only
//! `https` URLs on public addresses are fetched. The policy is
//! [`ostatus_core::NetPolicy`], shared by every ostatus-rs client: one value
//! configures WebFinger, WebSub and Salmon traffic alike, including the
//! operator's [trusted hosts](NetPolicy::with_trusted_hosts).

pub use ostatus_core::net::{Blocked, NetPolicy, is_public};
