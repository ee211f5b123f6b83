//! Active SVG: whether a document can run script or reach outside itself, judged whole through an
//! XML parser. Pure, like the rest of `check`.

/// Elements that run script or embed other documents.
const SVG_ACTIVE_ELEMENTS: &[&str] = &[
    "script",
    "foreignobject",
    "iframe",
    "embed",
    "object",
    "handler",
    "listener",
    "frame",
    "frameset",
    "applet",
    "meta",
    "link",
    "base",
];

/// SVG that can run script or reach outside itself, judged on the whole document through an
/// XML parser (so entities and character references are decoded first): script elements,
/// event handlers (`on…` attributes), `javascript:` or other non-fragment references (except
/// `data:` raster images), style sheets that import or load URLs, entity declarations,
/// processing instructions, and anything that does not parse.
pub fn svg_is_active(doc: &[u8]) -> bool {
    let doc = doc.strip_prefix(b"\xef\xbb\xbf").unwrap_or(doc);
    let Ok(text) = std::str::from_utf8(doc) else { return true };
    svg_active(text).unwrap_or(true)
}

/// Removes what browsers ignore inside a URL (white space, controls) and lowercases it.
fn squashed(v: &str) -> String {
    v.chars().filter(|c| !c.is_whitespace() && !c.is_control()).collect::<String>().to_ascii_lowercase()
}

/// A reference the document may hold: to a part of itself, or an embedded raster image.
fn inert_reference(v: &str) -> bool {
    let v = squashed(v);
    v.is_empty()
        || v.starts_with('#')
        || ["data:image/png", "data:image/jpeg", "data:image/gif", "data:image/webp"].iter().any(|p| v.starts_with(p))
}

/// CSS that loads nothing: no `@import`, no `url(…)` outside the document, no script.
fn inert_css(css: &str) -> bool {
    let c = squashed(css).replace("\\", "");
    if c.contains("@import") || c.contains("javascript:") || c.contains("expression(") || c.contains("-moz-binding") {
        return false;
    }
    c.split("url(").skip(1).all(|rest| inert_reference(rest.trim_start_matches(['"', '\''])))
}

fn svg_active(text: &str) -> Result<bool, quick_xml::Error> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut in_style = 0usize;
    let mut depth = 0usize;
    let mut style = String::new();
    loop {
        let (element, empty) = match reader.read_event()? {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                if e.local_name().as_ref().eq_ignore_ascii_case(b"style") {
                    in_style = in_style.saturating_sub(1);
                }
                continue;
            }
            Event::Text(t) if in_style > 0 => {
                style.push_str(&t.decode().map_err(quick_xml::Error::from)?);
                continue;
            }
            Event::CData(t) if in_style > 0 => {
                style.push_str(&t.decode().map_err(quick_xml::Error::from)?);
                continue;
            }
            Event::GeneralRef(r) => {
                // Only character references and the five predefined entities exist here.
                match r.resolve_char_ref()? {
                    Some(c) if in_style > 0 => style.push(c),
                    Some(_) => {}
                    None => {
                        let name = r.decode().map_err(quick_xml::Error::from)?;
                        if !matches!(name.as_ref(), "lt" | "gt" | "amp" | "apos" | "quot") {
                            return Ok(true);
                        }
                    }
                }
                continue;
            }
            Event::DocType(d) => {
                if d.decode().map_err(quick_xml::Error::from)?.to_ascii_lowercase().contains("<!entity") {
                    return Ok(true);
                }
                continue;
            }
            Event::PI(_) => return Ok(true),
            // An unclosed document is not well-formed.
            Event::Eof => return Ok(depth != 0 || !inert_css(&style)),
            _ => continue,
        };
        let name = String::from_utf8_lossy(element.local_name().as_ref()).to_ascii_lowercase();
        if SVG_ACTIVE_ELEMENTS.contains(&name.as_str()) {
            return Ok(true);
        }
        if !empty {
            depth += 1;
            if name == "style" {
                in_style += 1;
            }
        }
        for attr in element.attributes() {
            let attr = attr.map_err(quick_xml::Error::from)?;
            let key = String::from_utf8_lossy(attr.key.local_name().as_ref()).to_ascii_lowercase();
            let value = attr.unescape_value()?;
            if key.starts_with("on") {
                return Ok(true);
            }
            let reference = matches!(
                key.as_str(),
                "href" | "src" | "action" | "formaction" | "data" | "values" | "to" | "from" | "by"
            );
            if reference
                && !inert_reference(&value)
                && (key == "href" || key == "src" || squashed(&value).contains(':'))
            {
                return Ok(true);
            }
            if squashed(&value).contains("javascript:") || (key == "style" && !inert_css(&value)) {
                return Ok(true);
            }
            if value.contains("url(") && !inert_css(&value) {
                return Ok(true);
            }
        }
    }
}
