//! Cluster mode (issue 23): several nodes share one chat world through Redis.
//! `link` is one Redis connection as a sans-IO state machine and `resp` its wire format.
pub mod claim;
pub mod journal;
pub mod lapse;
pub mod lazy;
pub mod link;
pub mod live;
pub mod node;
pub mod resp;

pub use node::Node;
pub mod snapshot;
pub mod token;
