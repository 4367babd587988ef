//! The XML parts of office files, read as a stream of nodes: the only user of `quick-xml` in
//! `extract` (and of its HTML5 entity table, for `html.rs`).
//!
//! quick-xml does not recurse, so nesting costs no stack; the depth is still bounded
//! ([`crate::Limits::extract_xml_depth`]) because the reader keeps every open element's name to
//! check end tags, and no real office part nests past a few dozen levels. No DTD is read and no
//! entity other than XML's five and character references is expanded, so "billion laughs"
//! documents expand nothing.

use super::ExtractError;
use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use std::io::{BufReader, Read};

/// Whether the walk goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Flow {
    Continue,
    /// Enough was read (the text cap or the page cap was reached).
    Stop,
}

/// One thing met in document order. An empty element (`<w:tab/>`) is an `Open` then a `Close`.
pub(super) enum Node<'e, 'b> {
    Open(Element<'e, 'b>),
    Close(&'e str),
    Text(&'e str),
}

/// A start tag: its local name (without the namespace prefix) and attributes.
pub(super) struct Element<'e, 'b>(&'e BytesStart<'b>);

impl Element<'_, '_> {
    /// The name without its prefix: `t` for `<w:t>`.
    pub(super) fn local(&self) -> &str {
        local(self.0.name().0)
    }

    /// The value of the attribute whose local name is `name`, entities decoded.
    pub(super) fn attr(&self, name: &str) -> Option<String> {
        self.0
            .attributes()
            .with_checks(false)
            .flatten()
            .find(|a| local(a.key.as_ref()) == name)
            .and_then(|a| a.normalized_value(XmlVersion::Implicit1_0).ok().map(|v| v.into_owned()))
    }
}

impl Element<'_, '_> {
    /// The relationship id of an OOXML element: the prefixed `id` attribute (`r:id`), told
    /// apart from a plain `id` (a `p:sldId` has both).
    pub(super) fn rel_id(&self) -> Option<String> {
        self.0
            .attributes()
            .with_checks(false)
            .flatten()
            .find(|a| {
                let key: &str = a.key.as_ref();
                key.contains(':') && local(key) == "id"
            })
            .and_then(|a| a.normalized_value(XmlVersion::Implicit1_0).ok().map(|v| v.into_owned()))
    }
}

fn local(qname: &str) -> &str {
    qname.rsplit_once(':').map_or(qname, |(_, l)| l)
}

/// The text an HTML5 named character reference stands for (`hellip` → `…`).
pub(super) fn html_entity(name: &str) -> Option<&'static str> {
    quick_xml::escape::resolve_html5_entity(name)
}

/// Read the XML in `r` (the inflated entry `entry`), handing every node to `f` until the end,
/// until `f` says stop, or until an error (bad XML, nesting past `max_depth`, or the reader's
/// own error: the caller's inflation cap).
pub(super) fn walk(
    r: &mut dyn Read,
    entry: &str,
    max_depth: usize,
    mut f: impl FnMut(Node<'_, '_>) -> Flow,
) -> Result<(), ExtractError> {
    let mut reader = quick_xml::Reader::from_reader(BufReader::with_capacity(16 << 10, r));
    let mut buf = Vec::new();
    let mut depth = 0usize;
    let mut text = String::new();
    loop {
        let at = reader.buffer_position();
        let err = |message: String| ExtractError::Xml { entry: entry.to_owned(), at, message };
        let event = reader.read_event_into(&mut buf).map_err(|e| err(e.to_string()))?;
        let flow = match &event {
            Event::Start(e) => {
                depth += 1;
                if depth > max_depth {
                    return Err(ExtractError::XmlTooDeep {
                        entry: entry.to_owned(),
                        at,
                        limit: max_depth,
                    });
                }
                f(Node::Open(Element(e)))
            }
            Event::Empty(e) => match f(Node::Open(Element(e))) {
                Flow::Stop => Flow::Stop,
                Flow::Continue => f(Node::Close(local(e.name().0))),
            },
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                f(Node::Close(local(e.name().0)))
            }
            Event::Text(t) => f(Node::Text(&t.xml_content(XmlVersion::Implicit1_0))),
            Event::CData(t) => f(Node::Text(&t.xml_content(XmlVersion::Implicit1_0))),
            Event::GeneralRef(r) => {
                text.clear();
                match r.resolve_char_ref() {
                    Ok(Some(c)) => text.push(c),
                    Ok(None) => match quick_xml::escape::resolve_predefined_entity(r) {
                        Some(s) => text.push_str(s),
                        // An entity an internal DTD would define: not expanded, left as written.
                        None => {
                            text.push('&');
                            text.push_str(r);
                            text.push(';');
                        }
                    },
                    Err(e) => return Err(err(e.to_string())),
                }
                f(Node::Text(&text))
            }
            Event::Eof => return Ok(()),
            _ => Flow::Continue,
        };
        if flow == Flow::Stop {
            return Ok(());
        }
        buf.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(xml: &str, depth: usize) -> (String, Result<(), ExtractError>) {
        let mut out = String::new();
        let res = walk(&mut xml.as_bytes(), "part.xml", depth, |n| {
            match n {
                Node::Open(e) => {
                    out.push_str(&format!("<{}", e.local()));
                    if let Some(v) = e.attr("val") {
                        out.push_str(&format!(" {v}"));
                    }
                    out.push('>');
                }
                Node::Close(name) => out.push_str(&format!("</{name}>")),
                Node::Text(t) => out.push_str(t),
            }
            Flow::Continue
        });
        (out, res)
    }

    #[test]
    fn nodes_come_in_order_with_references_decoded() {
        let (out, res) = texts(
            r#"<?xml version="1.0"?><w:p xmlns:w="x"><w:t>R&amp;D &#233;&#x263A; &lt;</w:t><w:tab w:val="a&quot;b"/><![CDATA[<raw>]]></w:p>"#,
            8,
        );
        assert_eq!(res, Ok(()));
        assert_eq!(out, "<p><t>R&D é☺ <</t><tab a\"b></tab><raw></p>");
    }

    #[test]
    fn depth_and_bad_xml_are_errors_with_positions() {
        let deep = "<a>".repeat(10_000);
        let (_, res) = texts(&deep, 256);
        assert_eq!(
            res,
            Err(ExtractError::XmlTooDeep { entry: "part.xml".into(), at: 768, limit: 256 })
        );
        let (out, res) = texts("<a>ok</b>", 8);
        assert_eq!(out, "<a>ok");
        assert!(matches!(res, Err(ExtractError::Xml { at: 5, .. })), "{res:?}");
        // An entity a DTD would define is not expanded.
        let (out, res) = texts("<!DOCTYPE a [<!ENTITY x \"boom\">]><a>&x;</a>", 8);
        assert_eq!((out.as_str(), res), ("<a>&x;</a>", Ok(())));
    }
}
