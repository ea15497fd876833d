//! The outbound-request guard: `https` and public addresses only, unless
//! the policy says otherwise. The policy is [`ostatus_core::NetPolicy`],
//! shared by every ostatus-rs client, so one value configures WebSub,
//! WebFinger and Salmon traffic alike, trusted hosts included.

pub use ostatus_core::net::{Blocked, NetPolicy, is_public};
