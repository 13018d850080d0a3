//! One page per panel.

pub mod assets;
pub mod build;
pub mod editor;
pub mod settings;
pub mod tool_monitor;
