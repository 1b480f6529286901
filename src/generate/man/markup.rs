//! Just enough markup to write man page prose readably, and a page that is
//! assembled from separately rendered pieces.

use clap_mangen::roff::{bold, italic, roman, Inline, Roff};

/// A man page assembled from pieces that each render roff's apostrophe
/// preamble; it is kept once, at the top.
#[derive(Default)]
pub(crate) struct Page {
    bytes: Vec<u8>,
}

impl Page {
    pub(crate) fn append_rendered(&mut self, rendered: Vec<u8>) {
        if self.bytes.is_empty() {
            self.bytes = rendered;
            return;
        }
        let preamble = Roff::new().render();
        let body = rendered.strip_prefix(preamble.as_bytes()).unwrap_or(&rendered);
        self.bytes.extend_from_slice(body);
    }

    pub(crate) fn append(&mut self, roff: &Roff) {
        self.append_rendered(roff.render().into_bytes());
    }

    pub(crate) fn into_string(self) -> String {
        String::from_utf8(self.bytes).expect("roff renders UTF-8")
    }
}

/// The rendered page as mandoc's lint likes it: no trailing whitespace,
/// and filled text lines of at most 80 bytes, broken between words (a
/// break in filled text is a space). Control lines, `.TP` tags and no-fill
/// blocks stay.
pub(crate) fn tidy(page: &str) -> String {
    const WIDTH: usize = 80;
    let mut out = String::with_capacity(page.len());
    let mut filling = true;
    // The line after `.TP` is the tag: one line, whatever its length.
    let mut tag = false;
    for line in page.lines().map(str::trim_end) {
        let is_tag = std::mem::replace(&mut tag, line == ".TP");
        match line {
            ".nf" => filling = false,
            ".fi" => filling = true,
            _ => {}
        }
        let control = line.starts_with('.') || line.starts_with('\'');
        if control || is_tag || !filling || line.len() <= WIDTH {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let mut current = String::new();
        for word in line.split(' ').filter(|w| !w.is_empty()) {
            if !current.is_empty() && current.len() + 1 + word.len() > WIDTH {
                out.push_str(&current);
                out.push('\n');
                current.clear();
            }
            if current.is_empty() {
                // A line starting with `.` or `'` would be a request.
                if word.starts_with(['.', '\'']) {
                    current.push_str("\\&");
                }
            } else {
                current.push(' ');
            }
            current.push_str(word);
        }
        out.push_str(&current);
        out.push('\n');
    }
    out
}

/// Prose, one sentence per line as roff prefers: `literal` in bold (what
/// you type), {placeholder} in italics (what you substitute), the rest roman.
pub(crate) fn text(roff: &mut Roff, source: &str) {
    for sentence in sentences(source) {
        roff.text(inline(sentence));
    }
}

/// Text from clap's help, where backticks mark literals and nothing else is
/// markup; an unpaired backtick is kept as it is.
pub(crate) fn clap_text(roff: &mut Roff, source: &str) {
    let pieces: Vec<&str> = source.split('`').collect();
    if pieces.len().is_multiple_of(2) {
        roff.text([roman(source)]);
        return;
    }
    let parts = pieces.iter().enumerate().filter(|(_, piece)| !piece.is_empty());
    roff.text(
        parts
            .map(|(i, piece)| if i % 2 == 1 { bold(*piece) } else { roman(*piece) })
            .collect::<Vec<_>>(),
    );
}

fn sentences(source: &str) -> Vec<&str> {
    let mut sentences = Vec::new();
    let mut start = 0;
    let mut in_markup = None;
    for (i, c) in source.char_indices() {
        match (in_markup, c) {
            (None, '`') => in_markup = Some('`'),
            (None, '{') => in_markup = Some('}'),
            (Some(close), c) if c == close => in_markup = None,
            (None, ' ') if source[..i].ends_with('.') => {
                sentences.push(&source[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    sentences.push(&source[start..]);
    sentences
}

fn inline(source: &str) -> Vec<Inline> {
    let mut parts = Vec::new();
    let mut rest = source;
    while let Some(start) = rest.find(['`', '{']) {
        let (plain, marked) = rest.split_at(start);
        if !plain.is_empty() {
            parts.push(roman(plain));
        }
        let close = if marked.starts_with('`') { '`' } else { '}' };
        let end = marked[1..]
            .find(close)
            .unwrap_or_else(|| panic!("unclosed {:?} in {source:?}", &marked[..1]));
        let content = &marked[1..=end];
        parts.push(if close == '`' { bold(content) } else { italic(content) });
        rest = &marked[end + 2..];
    }
    if !rest.is_empty() {
        parts.push(roman(rest));
    }
    parts
}

pub(crate) fn heading(roff: &mut Roff, title: &str) {
    roff.control("SH", [title]);
}

pub(crate) fn subheading(roff: &mut Roff, title: &str) {
    roff.control("SS", [title]);
}

pub(crate) fn para(roff: &mut Roff, source: &str) {
    roff.control("PP", []);
    text(roff, source);
}

/// A tagged paragraph: `tag` on its own line, `body` indented below it.
pub(crate) fn tagged(roff: &mut Roff, tag: &str, body: &str) {
    roff.control("TP", []);
    roff.text(inline(tag));
    text(roff, body);
}

pub(crate) fn bullet(roff: &mut Roff, source: &str) {
    roff.control("IP", ["\\(bu", "2"]);
    text(roff, source);
}

pub(crate) fn numbered(roff: &mut Roff, number: usize, source: &str) {
    roff.control("IP", [format!("{number}.").as_str(), "4"]);
    text(roff, source);
}

/// Lines shown as typed: no filling, indented, every character literal.
pub(crate) fn literal<'a>(roff: &mut Roff, lines: impl IntoIterator<Item = &'a str>) {
    roff.control("RS", ["4"]);
    roff.control("nf", []);
    for line in lines {
        roff.text([roman(line)]);
    }
    roff.control("fi", []);
    roff.control("RE", []);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(write: impl FnOnce(&mut Roff)) -> String {
        let mut roff = Roff::new();
        write(&mut roff);
        roff.to_roff()
    }

    #[test]
    fn backticks_are_bold_and_braces_italic() {
        assert_eq!(
            inline("run `cachecmd --ttl` {DURATION} now"),
            vec![
                roman("run "),
                bold("cachecmd --ttl"),
                roman(" "),
                italic("DURATION"),
                roman(" now"),
            ]
        );
        assert_eq!(inline("a - b"), vec![roman("a - b")]);
    }

    #[test]
    #[should_panic(expected = "unclosed")]
    fn unclosed_markup_is_a_bug() {
        inline("`oops");
    }

    #[test]
    fn one_sentence_per_line_but_not_inside_literals() {
        let out = render(|r| text(r, "One. Two `a. b` three. Four"));
        assert_eq!(out, "One.\nTwo \\fBa. b\\fR three.\nFour\n");
    }

    #[test]
    fn clap_backticks_become_bold_and_odd_ones_stay() {
        assert_eq!(render(|r| clap_text(r, "use `x` now")), "use \\fBx\\fR now\n");
        assert_eq!(render(|r| clap_text(r, "it`s")), "it`s\n");
    }

    #[test]
    fn tidy_breaks_long_filled_lines_and_trims() {
        let long = format!("{} .dot", "word ".repeat(20).trim_end());
        let page = format!(".TH X  \n{long}\n.nf\n{long}\n.fi\n");
        let tidied = tidy(&page);
        let lines: Vec<&str> = tidied.lines().collect();
        assert_eq!(lines[0], ".TH X");
        assert!(lines[1].len() <= 80 && lines[2].starts_with("word"), "{tidied}");
        assert!(tidied.contains("\n\\&.dot\n") || tidied.contains(" .dot\n"), "{tidied}");
        assert!(tidied.contains(&format!("\n{long}\n.fi")), "no-fill lines stay: {tidied}");
    }

    #[test]
    fn the_preamble_is_kept_once() {
        let mut page = Page::default();
        page.append(Roff::new().control("TH", ["A"]));
        page.append(Roff::new().control("SH", ["B"]));
        let text = page.into_string();
        assert_eq!(text.matches(".ds Aq").count(), 2, "{text}"); // .ie and .el
        assert!(text.ends_with(".TH A\n.SH B\n"), "{text}");
    }
}
