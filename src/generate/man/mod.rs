//! Man pages: clap_mangen's sections for what clap knows (synopsis, options,
//! subcommands), then prose it does not (see `prose`). One page for the tool
//! and one per subcommand, found by walking the command tree.

mod markup;
mod prose;
mod reference;

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::Command;
use clap_mangen::roff::{bold, roman, Roff};
use clap_mangen::Man;

use markup::Page;

const SECTION: &str = "1";

/// The release history; a page's date is its version's release date.
const CHANGELOG: &str = include_str!("../../../CHANGELOG.md");

/// `cachecmd.1` plus `cachecmd-<sub>.1` for every visible subcommand.
pub(crate) fn render(cmd: &Command, dir: &Path) -> io::Result<Vec<(PathBuf, Vec<u8>)>> {
    // `cachecmd help <sub>` is the same as `-h`; a cachecmd-help(1) page
    // would be noise (clap_mangen's own generate_to does the same).
    let mut cmd = cmd.clone().disable_help_subcommand(true);
    cmd.build();
    let version = cmd.get_version().unwrap_or_default().to_owned();
    let footer = Footer {
        source: format!("{} {version}", cmd.get_name()),
        // roff drops an empty argument unless it is quoted.
        date: release_date(CHANGELOG, &version).unwrap_or("\"\"").to_owned(),
    };
    let mut pages = Vec::new();
    render_tree(&cmd, None, dir, &footer, &mut pages)?;
    Ok(pages)
}

/// What every page's `.TH` line says besides its name.
struct Footer {
    source: String,
    /// Empty until the version is released: the page must be reproducible,
    /// so it cannot be today's date (mandoc warns "missing date" meanwhile).
    date: String,
}

/// The date of `## [version] - YYYY-MM-DD` in a Keep a Changelog file.
fn release_date<'a>(changelog: &'a str, version: &str) -> Option<&'a str> {
    let heading = format!("## [{version}] - ");
    changelog.lines().find_map(|line| line.strip_prefix(&heading)).map(str::trim)
}

fn render_tree(
    cmd: &Command,
    parent: Option<&Command>,
    dir: &Path,
    footer: &Footer,
    pages: &mut Vec<(PathBuf, Vec<u8>)>,
) -> io::Result<()> {
    let man = Man::new(cmd.clone())
        .title(page_name(cmd).to_uppercase())
        .section(SECTION)
        .date(footer.date.as_str())
        .source(footer.source.as_str())
        .manual("User Commands");
    let bytes = match parent {
        None => main_page(cmd, &man)?,
        Some(parent) => subcommand_page(cmd, parent, &man)?,
    };
    pages.push((dir.join(man.get_filename()), bytes));
    for sub in visible_subcommands(cmd) {
        render_tree(sub, Some(cmd), dir, footer, pages)?;
    }
    Ok(())
}

/// `cachecmd`, `cachecmd-evict`: what clap displays and the page is named.
fn page_name(cmd: &Command) -> &str {
    cmd.get_display_name().unwrap_or_else(|| cmd.get_name())
}

fn visible_subcommands(cmd: &Command) -> impl Iterator<Item = &Command> {
    cmd.get_subcommands().filter(|sub| !sub.is_hide_set())
}

fn main_page(cmd: &Command, man: &Man) -> io::Result<Vec<u8>> {
    let mut page = clap_sections(cmd, man, prose::description_notes())?;
    for section in [
        prose::key(),
        prose::freshness(),
        prose::concurrency(),
        prose::storage(),
        prose::exit_status(),
        prose::environment(&env_options(cmd)),
        reference::files(),
    ] {
        page.append(&section);
    }
    append_examples(&mut page, cmd);
    let related: Vec<&str> = visible_subcommands(cmd).map(page_name).collect();
    page.append(&see_also(&related));
    Ok(page.into_bytes())
}

fn subcommand_page(cmd: &Command, parent: &Command, man: &Man) -> io::Result<Vec<u8>> {
    let notes = match after_help(cmd) {
        Some(text) if !is_examples(&text) => prose::notes(&text),
        _ => Roff::new(),
    };
    let mut page = clap_sections(cmd, man, notes)?;
    append_examples(&mut page, cmd);
    let mut related = vec![page_name(parent)];
    related.extend(visible_subcommands(cmd).map(page_name));
    page.append(&see_also(&related));
    Ok(page.into_bytes())
}

fn after_help(cmd: &Command) -> Option<String> {
    cmd.get_after_long_help().or_else(|| cmd.get_after_help()).map(ToString::to_string)
}

fn is_examples(after_help: &str) -> bool {
    after_help.trim_start().starts_with(reference::EXAMPLES_HEADING)
}

fn append_examples(page: &mut Page, cmd: &Command) {
    if let Some(text) = after_help(cmd).filter(|text| is_examples(text)) {
        page.append(&reference::examples(&text));
    }
}

/// The sections clap_mangen derives from the definition, in its order, with
/// `notes` added to the DESCRIPTION.
fn clap_sections(cmd: &Command, man: &Man, notes: Roff) -> io::Result<Page> {
    let head: [Render; 4] = [
        Man::render_title,
        Man::render_name_section,
        Man::render_synopsis_section,
        Man::render_description_section,
    ];
    let mut page = Page::default();
    for section in head {
        page.append_rendered(render_with(man, section)?);
    }
    page.append(&notes);
    if cmd.get_arguments().any(|arg| !arg.is_hide_set()) {
        page.append_rendered(render_with(man, Man::render_options_section)?);
    }
    if visible_subcommands(cmd).next().is_some() {
        page.append_rendered(render_with(man, Man::render_subcommands_section)?);
    }
    Ok(page)
}

/// One of clap_mangen's section renderers.
type Render = fn(&Man, &mut dyn Write) -> io::Result<()>;

fn render_with(man: &Man, section: Render) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    section(man, &mut out)?;
    Ok(out)
}

/// Every variable that clap reads for an option, once, in declaration
/// order, with the option it stands in for and that option's help.
fn env_options(cmd: &Command) -> Vec<prose::EnvOption> {
    fn collect(cmd: &Command, found: &mut Vec<prose::EnvOption>) {
        for arg in cmd.get_arguments().filter(|arg| !arg.is_hide_set() && !arg.is_hide_env_set()) {
            let (Some(env), Some(long)) = (arg.get_env(), arg.get_long()) else {
                continue;
            };
            let name = env.to_string_lossy().into_owned();
            if found.iter().all(|known| known.name != name) {
                found.push(prose::EnvOption {
                    name,
                    flag: format!("--{long}"),
                    help: arg.get_help().map(ToString::to_string).unwrap_or_default(),
                });
            }
        }
        for sub in cmd.get_subcommands() {
            collect(sub, found);
        }
    }
    let mut found = Vec::new();
    collect(cmd, &mut found);
    found
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
    fn the_release_date_is_that_of_the_version() {
        let changelog = "## [Unreleased]\n\n## [0.2.0] - 2027-01-05\n\n## [0.1.0] - 2026-12-01\n";
        assert_eq!(release_date(changelog, "0.1.0"), Some("2026-12-01"));
        assert_eq!(release_date(changelog, "0.3.0"), None);
    }
}
