//! One page per panel.

pub mod assets;
pub mod build;
pub mod not_built;
pub mod tool_monitor;
