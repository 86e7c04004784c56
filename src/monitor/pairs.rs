//! The columns two data sets share, read for comparison: the pairs plain-file `drift` and
//! `profile` compare, and a streamed profile of CSV data of any size. Paths are relative to
//! `base` (the current folder of the command).

use super::data::{self, Kind, Request};
use super::drift::Rows;
use anyhow::{Context, Result, bail};
use std::path::Path;

/// The columns to compare (those given, else every column of the reference but `exclude`),
/// and the reference data read for them.
fn read_reference(
    reference: &str,
    columns: &[String],
    exclude: Option<&String>,
    base: &Path,
) -> Result<(Vec<String>, data::Table)> {
    let columns: Vec<String> = if columns.is_empty() {
        data::column_names(reference, base)?
            .into_iter()
            .filter(|c| Some(c) != exclude)
            .collect()
    } else {
        columns.to_vec()
    };
    let r = data::read(
        reference,
        base,
        &Request {
            columns: columns.clone(),
            ..Default::default()
        },
    )
    .context("reading the reference data")?;
    Ok((columns, r))
}

/// Reads both sides' columns for plain-file drift and profiles.
pub fn column_pairs(
    reference: &str,
    current: &str,
    columns: &[String],
    categorical: &[String],
    exclude: Option<&String>,
    since: Option<(String, chrono::DateTime<chrono::Utc>)>,
    base: &Path,
) -> Result<(Vec<(data::ColumnData, data::ColumnData)>, Rows)> {
    let (columns, r) = read_reference(reference, columns, exclude, base)?;
    let c = data::read(
        current,
        base,
        &Request {
            columns: columns.clone(),
            since,
            last_days: None,
        },
    )
    .context("reading the current data")?;
    if r.frame.height() == 0 {
        bail!("the reference data has no rows");
    }
    if c.frame.height() == 0 {
        bail!("the current data has no rows");
    }
    use rayon::prelude::*;
    // Columns are extracted (and sorted) in parallel: most of the work on wide data.
    let pairs = columns
        .par_iter()
        .map(|name| {
            let kind = categorical.contains(name).then_some(Kind::Categorical);
            let rc = data::column(&r.frame, name, kind).context("in the reference data")?;
            let cc = data::column(&c.frame, name, kind.or(Some(rc.kind()))).with_context(|| {
                format!(
                    "in the current data (`{name}` is {:?} in the reference)",
                    rc.kind()
                )
                .to_lowercase()
            })?;
            Ok((rc, cc))
        })
        .collect::<Result<Vec<_>>>()?;
    let rows = Rows {
        reference: r.frame.height() as u64,
        current: c.frame.height() as u64,
    };
    Ok((pairs, rows))
}

/// A profile of current CSV data of any size, read row by row into the reference's bins.
pub fn streamed_profile(
    reference: &str,
    current: &str,
    columns: &[String],
    categorical: &[String],
    base: &Path,
) -> Result<super::profile::Profile> {
    let files = data::expand(current, base)?;
    if let Some(f) = files.iter().find(|f| {
        !f.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
    }) {
        bail!(
            "--stream reads CSV; {} is not (profile Parquet parts with `modelgate profile` and merge them with `drift --profiles`)",
            f.display()
        );
    }
    let (columns, r) = read_reference(reference, columns, None, base)?;
    let mut pairs = Vec::new();
    for name in &columns {
        let kind = categorical.contains(name).then_some(Kind::Categorical);
        let rc = data::column(&r.frame, name, kind).context("in the reference data")?;
        let empty = data::ColumnData {
            name: name.clone(),
            values: match rc.kind() {
                Kind::Numerical => data::Values::Numerical {
                    sorted: Vec::new(),
                    non_finite: 0,
                },
                Kind::Categorical => data::Values::Categorical {
                    counts: Default::default(),
                },
            },
            nulls: 0,
        };
        pairs.push((rc, empty));
    }
    let rows = Rows {
        reference: r.frame.height() as u64,
        current: 0,
    };
    let reference_only = super::profile::build(&pairs, rows)?;
    let p = super::profile::stream_csv(&reference_only, &files)?;
    if p.rows.current == 0 {
        bail!("the current data has no rows");
    }
    Ok(p)
}
