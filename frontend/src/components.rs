//! Widgets shared by several pages.

pub mod bridge_badge;
pub mod virtual_list;
