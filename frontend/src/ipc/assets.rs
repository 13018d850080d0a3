//! The asset gallery's calls to the backend.
