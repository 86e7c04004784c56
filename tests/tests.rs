//! Integration tests: one binary (as ripgrep does), a module per area.

mod util;

mod attacks;
mod batch;
mod check;
mod cli;
mod everyday;
mod fake_github;
mod fuzz;
mod git_source;
mod github;
mod lifecycle;
mod mlflow3;
mod monitor;
mod reference;
mod runtime;
mod schema;
mod sequences;
mod serve;
mod serve_lib;
mod signing;
mod site;
mod validate_fixtures;
mod workflows;
