//! Widgets shared by several pages.

pub mod bridge_badge;
pub mod fetched_window;
pub mod update_check;
pub mod virtual_list;
