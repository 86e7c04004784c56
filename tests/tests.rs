//! Integration tests: one binary (as ripgrep does), a module per area.

mod util;

mod batch;
mod check;
mod cli;
mod git_source;
mod lifecycle;
mod monitor;
mod reference;
mod signing;
mod validate_fixtures;
