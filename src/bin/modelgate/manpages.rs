//! Man pages in roff, generated from the clap definition: `modelgate.1` and one page per
//! subcommand (`modelgate-promote.1`, `modelgate-site-build.1`, …). Hidden commands get none.

use anyhow::Result;

/// Every page: (file name, roff bytes).
pub fn render(cmd: clap::Command) -> Result<Vec<(String, Vec<u8>)>> {
    let mut cmd = cmd;
    cmd.build();
    let mut pages = Vec::new();
    page(&cmd, "modelgate", &mut pages)?;
    Ok(pages)
}

fn page(cmd: &clap::Command, name: &str, pages: &mut Vec<(String, Vec<u8>)>) -> Result<()> {
    // clap names are `&'static str` (its `string` feature is off): one small leak per page of
    // a command that exits right after.
    let leaked: &'static str = Box::leak(name.to_string().into_boxed_str());
    let named = cmd.clone().name(leaked).bin_name(leaked.replace('-', " "));
    let mut out = Vec::new();
    clap_mangen::Man::new(named).render(&mut out)?;
    pages.push((format!("{name}.1"), out));
    for sub in cmd.get_subcommands() {
        if sub.is_hide_set() || sub.get_name() == "help" {
            continue;
        }
        page(sub, &format!("{name}-{}", sub.get_name()), pages)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_visible_subcommand_has_a_page() {
        use clap::CommandFactory;
        let pages = super::render(crate::cli::Cli::command()).unwrap();
        let names: Vec<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
        for n in [
            "modelgate.1",
            "modelgate-promote.1",
            "modelgate-site-build.1",
        ] {
            assert!(names.contains(&n), "{names:?}");
        }
        assert!(!names.iter().any(|n| n.starts_with("modelgate-dev")));
    }
}
