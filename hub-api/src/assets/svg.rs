//! The SVG allowlist. An uploaded SVG is parsed as XML and may hold only drawing: the elements
//! and attributes listed here, in the SVG namespace (or none), plus inert editor metadata
//! (Inkscape, Sodipodi, RDF). Everything else is refused: scripts, event handlers, animation,
//! links, `foreignObject` and other namespaces' markup, references outside the document (only
//! `#id`, and raster `data:` images in `<image>`), style sheets, DTD subsets and processing
//! instructions, entities XML does not define.

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;
use quick_xml::XmlVersion;

const SVG_NS: &[u8] = b"http://www.w3.org/2000/svg";
const XLINK_NS: &[u8] = b"http://www.w3.org/1999/xlink";
const XML_NS: &[u8] = b"http://www.w3.org/XML/1998/namespace";
/// Editor metadata: no browser gives these elements or attributes any meaning.
const INERT_NS: &[&[u8]] = &[
    b"http://www.inkscape.org/namespaces/inkscape",
    b"http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd",
    b"http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    b"http://creativecommons.org/ns#",
    b"http://purl.org/dc/elements/1.1/",
];

const ELEMENTS: &[&str] = &[
    "svg",
    "g",
    "defs",
    "symbol",
    "use",
    "title",
    "desc",
    "metadata",
    "path",
    "rect",
    "circle",
    "ellipse",
    "line",
    "polyline",
    "polygon",
    "text",
    "tspan",
    "textPath",
    "linearGradient",
    "radialGradient",
    "stop",
    "pattern",
    "clipPath",
    "mask",
    "marker",
    "image",
    "filter",
    "feBlend",
    "feColorMatrix",
    "feComponentTransfer",
    "feFuncR",
    "feFuncG",
    "feFuncB",
    "feFuncA",
    "feComposite",
    "feConvolveMatrix",
    "feDiffuseLighting",
    "feDisplacementMap",
    "feDistantLight",
    "feDropShadow",
    "feFlood",
    "feGaussianBlur",
    "feMerge",
    "feMergeNode",
    "feMorphology",
    "feOffset",
    "fePointLight",
    "feSpecularLighting",
    "feSpotLight",
    "feTile",
    "feTurbulence",
];

const ATTRIBUTES: &[&str] = &[
    // Structure and geometry.
    "id",
    "class",
    "version",
    "baseProfile",
    "viewBox",
    "preserveAspectRatio",
    "x",
    "y",
    "x1",
    "y1",
    "x2",
    "y2",
    "cx",
    "cy",
    "r",
    "rx",
    "ry",
    "fx",
    "fy",
    "fr",
    "width",
    "height",
    "d",
    "points",
    "pathLength",
    "transform",
    "href",
    "lang",
    "role",
    "tabindex",
    "focusable",
    // Paint, stroke and compositing.
    "fill",
    "fill-opacity",
    "fill-rule",
    "stroke",
    "stroke-width",
    "stroke-linecap",
    "stroke-linejoin",
    "stroke-miterlimit",
    "stroke-dasharray",
    "stroke-dashoffset",
    "stroke-opacity",
    "opacity",
    "color",
    "display",
    "visibility",
    "overflow",
    "clip",
    "clip-path",
    "clip-rule",
    "mask",
    "filter",
    "style",
    "paint-order",
    "vector-effect",
    "shape-rendering",
    "text-rendering",
    "image-rendering",
    "color-rendering",
    "color-interpolation",
    "color-interpolation-filters",
    "mix-blend-mode",
    "isolation",
    "enable-background",
    "solid-color",
    "solid-opacity",
    // Gradients, patterns, clips, masks, markers.
    "offset",
    "stop-color",
    "stop-opacity",
    "gradientUnits",
    "gradientTransform",
    "spreadMethod",
    "patternUnits",
    "patternContentUnits",
    "patternTransform",
    "clipPathUnits",
    "maskUnits",
    "maskContentUnits",
    "marker-start",
    "marker-mid",
    "marker-end",
    "markerWidth",
    "markerHeight",
    "markerUnits",
    "refX",
    "refY",
    "orient",
    // Text.
    "font-family",
    "font-size",
    "font-size-adjust",
    "font-weight",
    "font-style",
    "font-variant",
    "font-stretch",
    "text-anchor",
    "text-decoration",
    "dominant-baseline",
    "alignment-baseline",
    "baseline-shift",
    "letter-spacing",
    "word-spacing",
    "writing-mode",
    "direction",
    "unicode-bidi",
    "dx",
    "dy",
    "rotate",
    "textLength",
    "lengthAdjust",
    "startOffset",
    "method",
    "spacing",
    "side",
    "kerning",
    // Filters.
    "filterUnits",
    "primitiveUnits",
    "in",
    "in2",
    "result",
    "mode",
    "type",
    "values",
    "tableValues",
    "slope",
    "intercept",
    "amplitude",
    "exponent",
    "operator",
    "k1",
    "k2",
    "k3",
    "k4",
    "stdDeviation",
    "edgeMode",
    "order",
    "kernelMatrix",
    "divisor",
    "bias",
    "targetX",
    "targetY",
    "preserveAlpha",
    "surfaceScale",
    "diffuseConstant",
    "specularConstant",
    "specularExponent",
    "kernelUnitLength",
    "scale",
    "xChannelSelector",
    "yChannelSelector",
    "flood-color",
    "flood-opacity",
    "lighting-color",
    "radius",
    "baseFrequency",
    "numOctaves",
    "seed",
    "stitchTiles",
    "azimuth",
    "elevation",
    "z",
    "pointsAtX",
    "pointsAtY",
    "pointsAtZ",
    "limitingConeAngle",
];

/// Raster images an `<image>` may embed.
const IMAGE_DATA: &[&str] =
    &["data:image/png;base64,", "data:image/jpeg;base64,", "data:image/gif;base64,", "data:image/webp;base64,"];

/// Where an element's name is bound.
enum Kind {
    Svg,
    Inert,
}

/// Checks a whole SVG document against the allowlist; the error says what was refused.
pub fn check(text: &str) -> Result<(), String> {
    let mut reader = NsReader::from_str(text);
    let mut depth = 0usize;
    let mut root_done = false;
    loop {
        let (ns, event) = reader.read_resolved_event().map_err(|e| format!("the SVG is not well-formed XML: {e}"))?;
        let ns = owned_ns(ns);
        match event {
            Event::Start(ref tag) | Event::Empty(ref tag) => {
                if root_done {
                    return Err("the SVG has content after its root element".into());
                }
                let name = std::str::from_utf8(tag.local_name().into_inner()).unwrap_or("?").to_string();
                if depth == 0 && (name != "svg" || !matches!(ns.as_deref(), None | Some(SVG_NS))) {
                    return Err("the root element must be <svg>".into());
                }
                let kind = element_kind(ns.as_deref(), &name)?;
                check_attributes(&reader, tag, &name, kind)?;
                if matches!(event, Event::Start(_)) {
                    depth += 1;
                } else if depth == 0 {
                    root_done = true;
                }
            }
            Event::End(_) => {
                depth -= 1;
                root_done = depth == 0;
            }
            Event::Text(t) => {
                if depth == 0 && !t.iter().all(u8::is_ascii_whitespace) {
                    return Err("the SVG has text outside its root element".into());
                }
            }
            Event::GeneralRef(r) => {
                let known = r.is_char_ref()
                    || quick_xml::escape::resolve_predefined_entity(&r.decode().unwrap_or_default()).is_some();
                if !known || r.resolve_char_ref().is_err() {
                    return Err(format!(
                        "the SVG uses an entity XML does not define (&{};)",
                        String::from_utf8_lossy(&r)
                    ));
                }
            }
            Event::DocType(d) => {
                if d.contains(&b'[') {
                    return Err("SVG files may not declare entities or a DTD subset".into());
                }
            }
            Event::PI(_) => {
                return Err("SVG files may not contain processing instructions (<?xml-stylesheet …?>)".into())
            }
            Event::Decl(_) | Event::Comment(_) | Event::CData(_) => {}
            Event::Eof => break,
        }
    }
    if depth != 0 || !root_done {
        return Err("the SVG document is not complete (no closing </svg>)".into());
    }
    Ok(())
}

fn owned_ns(ns: ResolveResult<'_>) -> Option<Vec<u8>> {
    match ns {
        ResolveResult::Bound(ns) => Some(ns.into_inner().to_vec()),
        ResolveResult::Unbound => None,
        // An undeclared prefix: never one of ours.
        ResolveResult::Unknown(prefix) => Some([b"unknown:".as_slice(), &prefix].concat()),
    }
}

fn element_kind(ns: Option<&[u8]>, name: &str) -> Result<Kind, String> {
    match ns {
        None | Some(SVG_NS) if ELEMENTS.contains(&name) => Ok(Kind::Svg),
        None | Some(SVG_NS) => Err(format!("SVG files may not contain <{name}>")),
        Some(ns) if INERT_NS.contains(&ns) => Ok(Kind::Inert),
        Some(ns) => Err(format!("SVG files may not contain <{name}> of namespace {}", String::from_utf8_lossy(ns))),
    }
}

fn check_attributes(reader: &NsReader<&[u8]>, tag: &BytesStart<'_>, element: &str, kind: Kind) -> Result<(), String> {
    for attr in tag.attributes() {
        let attr = attr.map_err(|e| format!("<{element}> has a malformed attribute: {e}"))?;
        if attr.key.as_namespace_binding().is_some() {
            continue;
        }
        let (ns, local) = reader.resolver().resolve_attribute(attr.key);
        let local = std::str::from_utf8(local.into_inner()).unwrap_or("?");
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| format!("<{element} {local}> has a value XML cannot read: {e}"))?;
        let allowed = match (&ns, &kind) {
            (ResolveResult::Bound(ns), _) if ns.as_ref() == XLINK_NS => local == "href",
            (ResolveResult::Bound(ns), _) if ns.as_ref() == XML_NS => matches!(local, "space" | "lang"),
            (ResolveResult::Bound(ns), _) => INERT_NS.contains(&ns.as_ref()),
            (ResolveResult::Unbound, Kind::Svg) => ATTRIBUTES.contains(&local) || local.starts_with("aria-"),
            (ResolveResult::Unbound, Kind::Inert) => !local.to_ascii_lowercase().starts_with("on"),
            (ResolveResult::Unknown(_), _) => false,
        };
        if !allowed {
            return Err(format!("SVG files may not use the attribute {local} (on <{element}>)"));
        }
        if local == "href" {
            check_href(element, &value)?;
        }
        check_value(element, local, &value)?;
    }
    Ok(())
}

/// A reference: to an element of this document, or an embedded raster image.
fn check_href(element: &str, value: &str) -> Result<(), String> {
    let value = value.trim();
    let embedded = element == "image"
        && IMAGE_DATA.iter().any(|p| value.len() >= p.len() && value[..p.len()].eq_ignore_ascii_case(p));
    if value.starts_with('#') || embedded {
        Ok(())
    } else {
        Err(format!("<{element}> may refer only to #ids in the document (or embed a PNG, JPEG, GIF or WebP image)"))
    }
}

/// No value may reach outside the document or smuggle in script or CSS tricks.
fn check_value(element: &str, name: &str, value: &str) -> Result<(), String> {
    let squeezed: String =
        value.chars().filter(|c| !c.is_whitespace() && !c.is_control()).collect::<String>().to_ascii_lowercase();
    let refused = |why: &str| Err(format!("<{element} {name}> {why}"));
    if squeezed.contains('\\') {
        return refused("may not contain escapes (\\)");
    }
    for bad in ["javascript:", "vbscript:", "@import", "expression(", "-moz-binding", "behavior:"] {
        if squeezed.contains(bad) {
            return refused(&format!("may not contain {bad}"));
        }
    }
    let mut rest = squeezed.as_str();
    while let Some(at) = rest.find("url(") {
        rest = &rest[at + 4..];
        if !rest.trim_start_matches(['"', '\'']).starts_with('#') {
            return refused("may use url() only for #ids in the document");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::content::check_upload;

    fn svg(inner: &str) -> String {
        format!("<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\">{inner}</svg>")
    }

    fn check(doc: &str) -> Result<(), String> {
        check_upload("image/svg+xml", doc.as_bytes())
    }

    #[test]
    fn what_the_blocklist_missed_is_refused() {
        for bad in [
            // HTML's named entities spell `:` and a tab; XML has no such entities.
            "<a href=\"javascript&colon;alert(1)\"><text>x</text></a>",
            "<a xlink:href=\"java&Tab;script:alert(1)\"><text>x</text></a>",
            // The entities are refused wherever they are, not only in links.
            "<rect class=\"javascript&colon;x\"/>",
            "<text>java&Tab;script</text>",
            // No space between attributes: malformed XML, and a handler besides.
            "<rect x=\"1\"onclick=\"alert(1)\"/>",
        ] {
            assert!(check(&svg(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn scripts_handlers_and_external_references_are_refused() {
        for bad in [
            "<script>alert(1)</script>",
            "<script href=\"/x.js\"/>",
            "<rect onmouseover=\"alert(1)\"/>",
            "<animate onbegin=\"alert(1)\" attributeName=\"x\"/>",
            "<set attributeName=\"href\" to=\"javascript:alert(1)\"/>",
            "<foreignObject><div xmlns=\"http://www.w3.org/1999/xhtml\">x</div></foreignObject>",
            "<h:script xmlns:h=\"http://www.w3.org/1999/xhtml\">alert(1)</h:script>",
            "<h:iframe xmlns:h=\"http://www.w3.org/1999/xhtml\" src=\"https://evil.example\"/>",
            "<use href=\"https://evil.example/x.svg#a\"/>",
            "<use xlink:href=\"data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=#a\"/>",
            "<image href=\"https://evil.example/tracker.png\"/>",
            "<image href=\"data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=\"/>",
            "<style>@import url(https://evil.example/x.css);</style>",
            "<rect style=\"fill:url(https://evil.example/x)\"/>",
            "<rect fill=\"url(https://evil.example/x#g)\"/>",
            "<rect style=\"background:u\\72l(https://evil.example/x)\"/>",
            "<a href=\"#x\"><rect/></a>",
            "<feImage href=\"https://evil.example/x.png\"/>",
        ] {
            assert!(check(&svg(bad)).is_err(), "{bad}");
        }
        for bad in [
            "<?xml-stylesheet href=\"https://evil.example/x.css\"?><svg xmlns=\"http://www.w3.org/2000/svg\"/>",
            "<!DOCTYPE svg [<!ENTITY x \"javascript:alert(1)\">]><svg xmlns=\"http://www.w3.org/2000/svg\"/>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\"><rect></svg>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\"><rect/>",
            "<html xmlns=\"http://www.w3.org/1999/xhtml\"><svg/></html>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\"/><script/>",
        ] {
            assert!(check(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ordinary_drawings_pass() {
        let gradient =
            "<defs><linearGradient id=\"g\" x1=\"0\" y1=\"0\" x2=\"1\" y2=\"1\" gradientUnits=\"objectBoundingBox\">\
            <stop offset=\"0\" stop-color=\"#fff\"/><stop offset=\"1\" style=\"stop-color:#000;stop-opacity:.5\"/>\
            </linearGradient><clipPath id=\"c\"><circle r=\"4\"/></clipPath></defs>\
            <g transform=\"translate(1 2)\" clip-path=\"url(#c)\"><rect width=\"8\" height=\"8\" fill=\"url(#g)\"/>\
            <use href=\"#c\"/><use xlink:href=\"#c\"/></g><title>Logo &amp; name</title>\
            <text x=\"1\" y=\"2\" font-family=\"sans-serif\"><tspan>Fel&#233;hom</tspan></text>\
            <image width=\"1\" height=\"1\" href=\"data:image/png;base64,iVBORw0KGgo=\"/><!-- a comment -->";
        assert_eq!(check(&svg(gradient)), Ok(()));
        let inkscape = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n\
            <!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\">\n\
            <svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:inkscape=\"http://www.inkscape.org/namespaces/inkscape\" \
            xmlns:sodipodi=\"http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd\" \
            xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" xmlns:cc=\"http://creativecommons.org/ns#\" \
            xmlns:dc=\"http://purl.org/dc/elements/1.1/\" version=\"1.1\" viewBox=\"0 0 8 8\" inkscape:version=\"1.3\">\
            <sodipodi:namedview id=\"nv\" pagecolor=\"#ffffff\"/>\
            <metadata><rdf:RDF><cc:Work rdf:about=\"\"><dc:format>image/svg+xml</dc:format></cc:Work></rdf:RDF></metadata>\
            <g inkscape:label=\"Layer 1\" inkscape:groupmode=\"layer\"><path d=\"M0 0h8v8z\" sodipodi:nodetypes=\"ccc\"/></g></svg>";
        assert_eq!(check(inkscape), Ok(()));
        assert_eq!(check("<svg><text> once upon</text></svg>"), Ok(()), "no namespace is taken as SVG");
    }

    #[test]
    fn the_seed_assets_pass() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets-seed");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "svg") {
                let body = std::fs::read(&path).unwrap();
                assert_eq!(check_upload("image/svg+xml", &body), Ok(()), "{}", path.display());
                seen += 1;
            }
        }
        assert!(seen >= 5, "{seen} seed SVGs");
    }
}
