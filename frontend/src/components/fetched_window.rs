//! The rows a virtualised page holds after fetching them by range: a map from position to
//! row that keeps only what is near the view, so memory stays flat on long lists.

use std::collections::BTreeMap;

/// Puts `rows`, fetched for positions `start..end`, into `window`, first dropping rows more
/// than `keep_margin` positions outside that range.
pub fn merge_page<T>(
    window: &mut BTreeMap<usize, T>,
    start: usize,
    end: usize,
    keep_margin: usize,
    rows: Vec<T>,
) {
    let keep = start.saturating_sub(keep_margin)..end + keep_margin;
    window.retain(|position, _| keep.contains(position));
    for (offset, row) in rows.into_iter().enumerate() {
        window.insert(start + offset, row);
    }
}
