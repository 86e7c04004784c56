//! The library pieces of `modelgate serve`: the champion/challenger split (`split`), the
//! prediction log the monitoring jobs read (`predlog`) and live drift (`live`). No HTTP here:
//! the server plugs these in.

pub mod live;
pub mod predlog;
pub mod split;
