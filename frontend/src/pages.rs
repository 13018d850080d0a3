//! One page per panel.

pub mod not_built;
pub mod tool_monitor;
