//! Asset gallery logic: header readers for DDS, NIF, plugins and BA2 archives, thumbnails,
//! and the folder index that keeps up with the modder's files.

pub mod ba2;
pub mod dds;
pub mod header;
pub mod index;
pub mod kind;
pub mod nif;
pub mod plugin;
pub mod read_error;
pub mod scan;
pub mod thumb_cache;
pub mod thumbnail;
pub mod watch;
