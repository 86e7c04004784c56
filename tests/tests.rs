//! Integration tests: one binary (as ripgrep does), a module per area.

mod util;

mod cli;
mod git_source;
mod signing;
mod validate_fixtures;
