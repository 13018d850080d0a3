//! Asset gallery logic: header readers for DDS, NIF, plugins and BA2 archives, thumbnails,
//! and the folder index that keeps up with the modder's files.
