//! Man pages: one for the tool and one per visible subcommand, found by
//! walking the command tree. The sections clap knows (NAME, SYNOPSIS,
//! OPTIONS) come from the definition (`clap`), the rest is prose (`prose`,
//! `shared`, `reference`, `pages`). Pages pass `mandoc -Tlint` silently.

mod clap;
mod markup;
mod pages;
mod prose;
mod reference;
mod shared;

use std::io;
use std::path::{Path, PathBuf};

use ::clap::Command;
use clap_mangen::roff::{bold, italic, roman, Roff};

use self::clap::{page_name, visible_subcommands};

const SECTION: &str = "1";

/// The release history; a page's date is that of the newest release.
const CHANGELOG: &str = include_str!("../../../CHANGELOG.md");

/// The date of pages built before any release is dated in CHANGELOG.md.
/// Fixed, not today's, so the committed pages stay reproducible.
const UNRELEASED_DATE: &str = "2026-12-01";

/// `cachecmd.1` plus `cachecmd-<sub>.1` for every visible subcommand.
pub(crate) fn render(cmd: &Command, dir: &Path) -> io::Result<Vec<(PathBuf, Vec<u8>)>> {
    // `cachecmd help <sub>` is the same as `-h`; a cachecmd-help(1) page
    // would be noise.
    let mut cmd = cmd.clone().disable_help_subcommand(true);
    cmd.build();
    let version = cmd.get_version().unwrap_or_default().to_owned();
    let footer = Footer {
        source: format!("{} {version}", cmd.get_name()),
        date: newest_release_date(CHANGELOG).unwrap_or(UNRELEASED_DATE).to_owned(),
    };
    let mut pages = vec![(dir.join("cachecmd.1"), main_page(&cmd, &footer))];
    for sub in visible_subcommands(&cmd) {
        let file = format!("{}.1", page_name(sub));
        pages.push((dir.join(file), subcommand_page(sub, &cmd, &footer)));
    }
    Ok(pages)
}

/// What every page's `.TH` line says besides its name.
struct Footer {
    source: String,
    date: String,
}

/// The date of the first `## [version] - YYYY-MM-DD` heading of a Keep a
/// Changelog file (the newest release comes first).
fn newest_release_date(changelog: &str) -> Option<&str> {
    changelog.lines().find_map(|line| {
        let rest = line.strip_prefix("## [")?;
        let (_, date) = rest.split_once("] - ")?;
        Some(date.trim())
    })
}

fn title(roff: &mut Roff, cmd: &Command, footer: &Footer) {
    let name = page_name(cmd).to_uppercase();
    roff.control("TH", [name.as_str(), SECTION, &footer.date, &footer.source, "User Commands"]);
}

fn main_page(cmd: &Command, footer: &Footer) -> Vec<u8> {
    let mut r = Roff::new();
    title(&mut r, cmd, footer);
    clap::name(&mut r, cmd);
    markup::heading(&mut r, "SYNOPSIS");
    clap::synopsis(&mut r, cmd, cmd.get_name());
    r.control("SY", [cmd.get_name()]);
    r.text([italic("SUBCOMMAND"), roman(" [OPTIONS]")]);
    r.control("YS", []);
    markup::heading(&mut r, "DESCRIPTION");
    markup::text(
        &mut r,
        "The first run of a command records its stdout, stderr and exit status; later runs \
         with the same key replay them while they are fresh, without running the command.",
    );
    let mut page = markup::Page::default();
    page.append(&r);
    page.append(&prose::description_notes());
    let mut r = Roff::new();
    clap::options(&mut r, cmd);
    clap::subcommands(&mut r, cmd, SECTION);
    page.append(&r);
    for section in [
        prose::key(),
        prose::freshness(),
        prose::concurrency(),
        prose::storage(),
        shared::outputs(),
        shared::remote_tier(),
        prose::exit_status(),
        prose::environment(&prose::env_options(cmd)),
        reference::configuration(),
        reference::files(),
    ] {
        page.append(&section);
    }
    if let Some(text) = after_help(cmd).filter(|text| is_examples(text)) {
        page.append(&reference::examples(&text));
    }
    let related: Vec<&str> = visible_subcommands(cmd).map(page_name).collect();
    page.append(&see_also(&related));
    markup::tidy(&page.into_string()).into_bytes()
}

fn subcommand_page(cmd: &Command, parent: &Command, footer: &Footer) -> Vec<u8> {
    let prose = pages::prose(cmd.get_name());
    let mut r = Roff::new();
    title(&mut r, cmd, footer);
    clap::name(&mut r, cmd);
    markup::heading(&mut r, "SYNOPSIS");
    clap::synopsis(&mut r, cmd, &format!("{} {}", parent.get_name(), cmd.get_name()));
    markup::heading(&mut r, "DESCRIPTION");
    markup::text(&mut r, prose.description);
    let mut page = markup::Page::default();
    page.append(&r);
    if let Some(text) = after_help(cmd).filter(|text| !is_examples(text)) {
        page.append(&prose::notes(&text));
    }
    let mut r = Roff::new();
    clap::options(&mut r, cmd);
    page.append(&r);
    page.append(&pages::exit_status(&prose));
    page.append(&pages::examples(&prose));
    let mut related = vec![page_name(parent)];
    related.extend(visible_subcommands(cmd).map(page_name));
    page.append(&see_also(&related));
    markup::tidy(&page.into_string()).into_bytes()
}

fn after_help(cmd: &Command) -> Option<String> {
    cmd.get_after_long_help().or_else(|| cmd.get_after_help()).map(ToString::to_string)
}

fn is_examples(after_help: &str) -> bool {
    after_help.trim_start().starts_with(reference::EXAMPLES_HEADING)
}

fn see_also(pages: &[&str]) -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", ["SEE ALSO"]);
    let mut line = Vec::new();
    for (i, page) in pages.iter().enumerate() {
        if i > 0 {
            line.push(roman(", "));
        }
        line.push(bold(*page));
        line.push(roman(format!("({SECTION})")));
    }
    roff.text(line);
    roff
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_date_is_that_of_the_newest_release() {
        let changelog = "## [Unreleased]\n\n## [0.2.0] - 2027-01-05\n\n## [0.1.0] - 2026-12-01\n";
        assert_eq!(newest_release_date(changelog), Some("2027-01-05"));
        assert_eq!(newest_release_date("## [Unreleased]\n"), None);
    }
}
