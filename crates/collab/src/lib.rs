//! Collaboration hub: shared yrs text documents served over the standard Yjs sync and
//! awareness protocols, persisted in SQLite.
