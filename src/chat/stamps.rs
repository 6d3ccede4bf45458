//! Message stamps (issue 22): each message gets its time and an id that grows with time,
//! `at_ms << 12` plus a count within the millisecond (more than 4096 in one millisecond borrow
//! from the next), so ids are unique, sortable, and say roughly when a message was sent. Ids
//! are written in the records that keep messages (`said`, `mail`); replay raises the counter
//! past every id it reads, so ids given after a restart are larger even if the clock is not.

use crate::event::Stamp;

#[derive(Debug, Default)]
pub struct Stamps {
    last: u64,
}

impl Stamps {
    /// The stamp of a message sent at `at_ms` (Unix ms).
    pub fn next(&mut self, at_ms: u64) -> Stamp {
        let id = (self.last + 1).max(at_ms << 12);
        self.last = id;
        Stamp { at_ms, id }
    }

    /// An id read back from a record.
    pub fn seen(&mut self, id: u64) {
        self.last = self.last.max(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_grow_even_when_the_clock_does_not() {
        let mut s = Stamps::default();
        let a = s.next(1000);
        let b = s.next(1000);
        let c = s.next(999);
        assert_eq!(a.id, 1000 << 12);
        assert_eq!(b.id, a.id + 1);
        assert!(c.id > b.id, "a clock going back still gives larger ids");
        s.seen(5000 << 12);
        assert_eq!(s.next(1001).id, (5000 << 12) + 1);
        assert_eq!(s.next(6000).id, 6000 << 12);
    }
}
