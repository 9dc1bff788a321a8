//! Requests counted by route and reason: one row of atomic counters per route of the
//! application, found by the route's address (stable while Rocket serves) with a binary search.

use std::sync::atomic::{AtomicU64, Ordering};

use super::reason::Reason;

/// A route's requests, by [`Reason`].
#[derive(Debug, Default)]
pub(crate) struct RouteCounts([AtomicU64; Reason::ALL.len()]);

impl RouteCounts {
    /// Counts one request.
    pub(crate) fn count(&self, reason: Reason) {
        self.0[reason as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// How many requests ended for `reason`.
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) fn get(&self, reason: Reason) -> u64 {
        self.0[reason as usize].load(Ordering::Relaxed)
    }
}

/// One route: its method and URI template (the labels), and its counts.
#[derive(Debug)]
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
pub(crate) struct RouteRow {
    address: usize,
    pub(crate) method: String,
    pub(crate) uri: String,
    pub(crate) counts: RouteCounts,
}

/// Every route's row, sorted by address.
#[derive(Debug, Default)]
pub(crate) struct RouteTable {
    rows: Vec<RouteRow>,
}

impl RouteTable {
    /// The table of `routes`: each route's address, method and URI template.
    pub(crate) fn new(routes: impl IntoIterator<Item = (usize, String, String)>) -> RouteTable {
        let mut rows: Vec<RouteRow> = routes
            .into_iter()
            .map(|(address, method, uri)| RouteRow {
                address,
                method,
                uri,
                counts: RouteCounts::default(),
            })
            .collect();
        rows.sort_by_key(|row| row.address);
        rows.dedup_by_key(|row| row.address);
        RouteTable { rows }
    }

    /// The counts of the route at `address`.
    pub(crate) fn counts(&self, address: usize) -> Option<&RouteCounts> {
        let index = self
            .rows
            .binary_search_by_key(&address, |row| row.address)
            .ok()?;
        Some(&self.rows[index].counts)
    }

    /// Every row.
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) fn rows(&self) -> &[RouteRow] {
        &self.rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_found_by_address() {
        let table = RouteTable::new([
            (30, "GET".into(), "/b".into()),
            (10, "GET".into(), "/a".into()),
        ]);
        table.counts(10).expect("a").count(Reason::Signature);
        assert_eq!(table.rows()[0].uri, "/a");
        assert_eq!(table.rows()[0].counts.get(Reason::Signature), 1);
        assert!(table.counts(20).is_none());
    }
}
