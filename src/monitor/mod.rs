//! Monitoring: data loading (polars), drift statistics, fairness and classification metrics.
//! The statistics are pure functions; `data` is the only part that reads files.

pub mod bias;
pub mod data;
pub mod drift;
pub mod evidence;
pub mod job;
pub mod metrics;
pub mod pairs;
pub mod profile;
pub mod render;
pub mod stats;
