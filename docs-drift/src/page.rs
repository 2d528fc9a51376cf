//! Reading one vendor page in Mintlify's `.md` markup: the method and URL, the `<ParamField>`s
//! and `<ResponseField>`s (nested in `<Expandable>`), and the code blocks of
//! `<RequestExample>` and `<ResponseExample>`.
//!
//! Tolerant of what the markup really holds: attributes in any order, single or double quotes,
//! `required` bare, `"true"`, `"false"` or absent, `{...}` attribute values, union types
//! (`integer | null`), prose, callouts and any other tag between fields, several examples per
//! page. The vendor writes every parameter as `path="..."`, query and body ones included, so a
//! parameter's place comes from its section heading (`## Query Parameters`, `## Request`)
//! unless the attribute says `query`, `body` or `header`.
//!
//! A page that ends inside a tag or a code block is [`PageError::Truncated`] (a stored excerpt,
//! a cut-off download); a closing tag that closes nothing is [`PageError::Malformed`]. Neither
//! panics, whatever the input. A file that cannot be read at all is [`PageError::Unreadable`].

use std::collections::BTreeMap;

/// Who wrote a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A copy of the vendor's page.
    Vendor,
    /// A page written by this project in the vendor's markup (it says so in its first line).
    Ours,
}

/// A parameter or response field of a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// `path`, `query`, `header` or `body` for parameters; `response` for response fields.
    pub location: String,
    /// The name; nested fields are `parent.child`, array items `parent[].child`.
    pub name: String,
    /// The `type` attribute as written (`integer | null`).
    pub ty: String,
    /// Whether the page marks it required.
    pub required: bool,
    /// The 1-based line of its tag.
    pub line: usize,
}

/// A code block of an example.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Code {
    /// `request` or `response` (in `<RequestExample>` or `<ResponseExample>`), else `other`.
    pub kind: &'static str,
    /// The language word of the fence (`json`, `bash`, `python`).
    pub lang: String,
    /// The code, without the indentation the example tag adds.
    pub text: String,
    /// The 1-based line of the opening fence.
    pub line: usize,
}

/// One page, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    /// The file name (`cancel-batch.md`).
    pub name: String,
    /// Who wrote it.
    pub source: Source,
    /// The `# Title`.
    pub title: Option<String>,
    /// `(method, path)` from the front matter's `api:`/`openapi:`, else from the cURL example;
    /// the path may hold example ids instead of `{params}`.
    pub api: Option<(String, String, usize)>,
    /// Parameters, in page order.
    pub params: Vec<Field>,
    /// Response fields, in page order.
    pub response: Vec<Field>,
    /// Every code block of the examples.
    pub code: Vec<Code>,
    /// The `## ` headings, lower-cased, with their lines.
    pub headings: Vec<(String, usize)>,
}

impl Page {
    /// The line where the page lists the fields of `location` (`path`, `query`, `body`,
    /// `header` or `response`): its section heading, else its first field, else 1. Differences
    /// about a field the page lacks point there.
    pub fn section_line(&self, location: &str) -> usize {
        let words: &[&str] = match location {
            "response" => &["response"],
            "body" => &["request", "body"],
            other => &[other],
        };
        self.headings
            .iter()
            .find(|(h, _)| words.iter().any(|w| h.contains(w)))
            .map(|(_, l)| *l)
            .or_else(|| {
                let fields = if location == "response" {
                    &self.response
                } else {
                    &self.params
                };
                fields.iter().find(|f| f.location == location).map(|f| f.line)
            })
            .unwrap_or(1)
    }
}

/// Why a page cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PageError {
    /// It ends inside a tag or a code block.
    Truncated {
        /// The line where what is unfinished starts.
        line: usize,
        /// What is unfinished.
        inside: String,
    },
    /// Its markup is broken.
    Malformed {
        /// The line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The file cannot be read (permissions, not UTF-8, an I/O error).
    Unreadable {
        /// The error.
        message: String,
    },
}

impl PageError {
    /// The error with the page's name in front: `name:line: ...`, or `name: ...` when no line
    /// applies.
    pub fn located(&self, name: &str) -> String {
        match self {
            Self::Unreadable { .. } => format!("{name}: {self}"),
            _ => format!("{name}:{self}"),
        }
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Truncated { line, inside } => write!(f, "{line}: the page ends inside {inside} (truncated)"),
            Self::Malformed { line, message } => write!(f, "{line}: malformed markup: {message}"),
            Self::Unreadable { message } => write!(f, "the file cannot be read: {message}"),
        }
    }
}

/// An open component tag.
struct Open {
    name: String,
    line: usize,
    /// For fields: the full dotted name and the type, for children to extend.
    field: Option<(String, String)>,
}

/// Reads the page `name`.
///
/// # Errors
///
/// [`PageError`] for a truncated page or broken markup.
pub fn parse(name: &str, text: &str) -> Result<Page, PageError> {
    let lines: Vec<&str> = text.lines().collect();
    let mut reader = Reader {
        lines: &lines,
        i: 0,
        stack: Vec::new(),
        heading: String::new(),
        page: Page {
            name: name.to_owned(),
            source: if text.trim_start().starts_with("<!-- written by us") {
                Source::Ours
            } else {
                Source::Vendor
            },
            title: None,
            api: None,
            params: Vec::new(),
            response: Vec::new(),
            code: Vec::new(),
            headings: Vec::new(),
        },
    };
    reader.i = front_matter(&lines, &mut reader.page)?;
    while reader.i < lines.len() {
        reader.line()?;
    }
    reader.finish()
}

/// The front matter, `---` lines around `key: value`s, gives the method and path (`api:` or
/// `openapi:`). Returns the index of the first line after it.
fn front_matter(lines: &[&str], page: &mut Page) -> Result<usize, PageError> {
    if lines.first().map(|l| l.trim()) != Some("---") {
        return Ok(0);
    }
    let mut j = 1;
    while j < lines.len() && lines[j].trim() != "---" {
        if let Some((key, value)) = lines[j].split_once(':')
            && matches!(key.trim(), "api" | "openapi")
        {
            let value = value.trim().trim_matches(['"', '\'']);
            let mut words = value.split_whitespace();
            if let (Some(m), Some(p)) = (words.next(), words.last()) {
                page.api = Some((m.to_ascii_uppercase(), url_path(p), j + 1));
            }
        }
        j += 1;
    }
    if j == lines.len() {
        return Err(PageError::Truncated {
            line: 1,
            inside: "the front matter".into(),
        });
    }
    Ok(j + 1)
}

/// The state of reading a page's body, line by line.
struct Reader<'a> {
    lines: &'a [&'a str],
    /// The index of the line being read.
    i: usize,
    /// The component tags open here, outermost first.
    stack: Vec<Open>,
    /// The last `## ` heading, lower-cased (a parameter's place comes from it).
    heading: String,
    page: Page,
}

impl Reader<'_> {
    /// Reads the line at `i` (a whole code block when it opens one) and moves past it.
    fn line(&mut self) -> Result<(), PageError> {
        let line = self.lines[self.i];
        let trimmed = line.trim_start();
        if let Some(info) = trimmed.strip_prefix("```") {
            return self.code_block(line.len() - trimmed.len(), info);
        }
        if let Some(h) = trimmed.strip_prefix("## ") {
            self.heading = h.trim().to_ascii_lowercase();
            self.page.headings.push((self.heading.clone(), self.i + 1));
        } else if let Some(t) = trimmed.strip_prefix("# ")
            && self.page.title.is_none()
        {
            self.page.title = Some(t.trim().to_owned());
        }
        self.tags()?;
        self.i += 1;
        Ok(())
    }

    /// A code fence at `i`, indented by `indent`, with the info string `info`: reads the whole
    /// block, an example's when an example tag is open.
    fn code_block(&mut self, indent: usize, info: &str) -> Result<(), PageError> {
        let number = self.i + 1;
        let lang = info.split_whitespace().next().unwrap_or_default().to_ascii_lowercase();
        let mut body = Vec::new();
        let mut j = self.i + 1;
        loop {
            let Some(l) = self.lines.get(j) else {
                return Err(PageError::Truncated {
                    line: number,
                    inside: "a code block".into(),
                });
            };
            if l.trim_start().starts_with("```") {
                break;
            }
            body.push(l.get(indent.min(l.len() - l.trim_start().len())..).unwrap_or(l));
            j += 1;
        }
        let kind = self.stack.iter().rev().find_map(|o| match o.name.as_str() {
            "RequestExample" => Some("request"),
            "ResponseExample" => Some("response"),
            _ => None,
        });
        self.page.code.push(Code {
            kind: kind.unwrap_or("other"),
            lang,
            text: body.join("\n"),
            line: number,
        });
        self.i = j + 1;
        Ok(())
    }

    /// The component tags of the line at `i`: `<Name`, `</Name` with a capital letter
    /// (lower-case HTML and `<` in prose are not components). A tag may run over several
    /// lines; `i` then moves to its last.
    fn tags(&mut self) -> Result<(), PageError> {
        let number = self.i + 1;
        let mut rest: String = self.lines[self.i].to_owned();
        let mut at = 0;
        while let Some(off) = rest[at..].find('<') {
            let start = at + off;
            let after = &rest[start + 1..];
            let name_start = after.strip_prefix('/').unwrap_or(after);
            if !name_start.chars().next().is_some_and(|c| c.is_ascii_uppercase()) {
                at = start + 1;
                continue;
            }
            let end = self.tag_end(&mut rest, start, number)?;
            at = end + 1;
            let tag = rest[start + 1..end].to_owned();
            match tag.strip_prefix('/') {
                Some(name) => self.close(name.trim(), number)?,
                None => self.open(&tag, number),
            }
        }
        Ok(())
    }

    /// The index in `rest` of the `>` that ends the tag starting at `start`, outside quotes and
    /// braces; reads up to 20 more lines into `rest` to find it.
    fn tag_end(&mut self, rest: &mut String, start: usize, number: usize) -> Result<usize, PageError> {
        let first = self.i;
        loop {
            if let Some(e) = find_tag_end(&rest[start..]) {
                return Ok(start + e);
            }
            if self.i >= first + 20 {
                return Err(PageError::Malformed {
                    line: number,
                    message: "a tag that does not end within 20 lines (an unclosed quote?)".into(),
                });
            }
            self.i += 1;
            let Some(next) = self.lines.get(self.i) else {
                return Err(PageError::Truncated {
                    line: number,
                    inside: format!("the tag `{}`", rest[start..].lines().next().unwrap_or_default()),
                });
            };
            rest.push('\n');
            rest.push_str(next);
        }
    }

    /// `</name>`: closes the innermost open tag, which must be `name`.
    fn close(&mut self, name: &str, number: usize) -> Result<(), PageError> {
        match self.stack.iter().rposition(|o| o.name == name) {
            Some(pos) if pos + 1 == self.stack.len() => {
                self.stack.pop();
                Ok(())
            }
            Some(_) => {
                let inner = self.stack.last().expect("deeper than pos");
                Err(PageError::Malformed {
                    line: number,
                    message: format!("`</{name}>` closes `<{}>` of line {} first", inner.name, inner.line),
                })
            }
            None => Err(PageError::Malformed {
                line: number,
                message: format!("`</{name}>` closes nothing"),
            }),
        }
    }

    /// `<Name attributes>` or `<Name attributes />`: a field when it is one, and an open tag
    /// unless it closes itself.
    fn open(&mut self, tag: &str, number: usize) {
        let self_closing = tag.trim_end().ends_with('/');
        let tag = tag.trim_end().trim_end_matches('/');
        let (name, attrs) = match tag.find(char::is_whitespace) {
            Some(p) => (&tag[..p], attributes(&tag[p..])),
            None => (tag, BTreeMap::new()),
        };
        let field = field_of(name, &attrs, &self.stack, &self.heading, number);
        let open = Open {
            name: name.to_owned(),
            line: number,
            field: field.as_ref().map(|f| (f.name.clone(), f.ty.clone())),
        };
        if let Some(f) = field {
            if f.location == "response" {
                self.page.response.push(f);
            } else {
                self.page.params.push(f);
            }
        }
        if !self_closing {
            self.stack.push(open);
        }
    }

    /// The page, unless it ends inside a component; its method and path from the cURL example
    /// when the front matter gave none.
    fn finish(mut self) -> Result<Page, PageError> {
        if let Some(open) = self.stack.iter().find(|o| is_component(&o.name)) {
            return Err(PageError::Truncated {
                line: open.line,
                inside: format!("`<{}>`", open.name),
            });
        }
        if self.page.api.is_none() {
            self.page.api = self
                .page
                .code
                .iter()
                .find(|c| c.kind == "request" && (c.lang == "bash" || c.lang == "shell" || c.text.contains("curl")))
                .and_then(|c| curl_route(&c.text).map(|(m, p)| (m, p, c.line)));
        }
        Ok(self.page)
    }
}

/// The components whose content the page is read for; a page must not end inside one.
fn is_component(name: &str) -> bool {
    matches!(
        name,
        "ParamField" | "ResponseField" | "Expandable" | "RequestExample" | "ResponseExample"
    )
}

/// The index of the `>` that ends the tag starting at `text[0] == '<'`, outside quotes and
/// `{...}`.
fn find_tag_end(text: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut braces = 0usize;
    for (i, c) in text.char_indices().skip(1) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') if braces == 0 => quote = Some(c),
            (None, '{') => braces += 1,
            (None, '}') => braces = braces.saturating_sub(1),
            (None, '>') if braces == 0 => return Some(i),
            _ => {}
        }
    }
    None
}

/// `name="v"`, `name='v'`, `name={v}` and bare `name` attributes.
fn attributes(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        let start = i;
        while i < chars.len() && !chars[i].is_whitespace() && chars[i] != '=' {
            i += 1;
        }
        let name: String = chars[start..i].iter().collect();
        if name.is_empty() {
            i += 1;
            continue;
        }
        if i < chars.len() && chars[i] == '=' {
            i += 1;
            let value: String = match chars.get(i) {
                Some('"') | Some('\'') => {
                    let q = chars[i];
                    let s = i + 1;
                    i = s;
                    while i < chars.len() && chars[i] != q {
                        i += 1;
                    }
                    let v = chars[s..i.min(chars.len())].iter().collect();
                    i += 1;
                    v
                }
                Some('{') => {
                    let s = i + 1;
                    let mut depth = 0;
                    while i < chars.len() {
                        match chars[i] {
                            '{' => depth += 1,
                            '}' => {
                                depth -= 1;
                                if depth == 0 {
                                    break;
                                }
                            }
                            _ => {}
                        }
                        i += 1;
                    }
                    let v: String = chars[s..i.min(chars.len())].iter().collect();
                    i += 1;
                    v.trim().trim_matches(['"', '\'']).to_owned()
                }
                _ => {
                    let s = i;
                    while i < chars.len() && !chars[i].is_whitespace() {
                        i += 1;
                    }
                    chars[s..i].iter().collect()
                }
            };
            out.insert(name, value);
        } else {
            out.insert(name, "true".to_owned());
        }
    }
    out
}

/// The field a `<ParamField>` or `<ResponseField>` tag describes, named after its ancestors.
fn field_of(tag: &str, attrs: &BTreeMap<String, String>, stack: &[Open], heading: &str, line: usize) -> Option<Field> {
    let parent = stack.iter().rev().find_map(|o| o.field.clone());
    let (location, own) = match tag {
        "ResponseField" => ("response".to_owned(), attrs.get("name")?.clone()),
        "ParamField" => {
            let (attr, name) = ["query", "body", "header", "path"]
                .iter()
                .find_map(|k| attrs.get(*k).map(|v| (*k, v.clone())))?;
            let by_heading = if heading.contains("query") {
                "query"
            } else if heading.contains("header") {
                "header"
            } else if heading.contains("request") || heading.contains("body") {
                "body"
            } else {
                "path"
            };
            let location = if attr == "path" { by_heading } else { attr };
            (location.to_owned(), name)
        }
        _ => return None,
    };
    let name = match &parent {
        Some((p, ty)) if ty.contains("array") => format!("{p}[].{own}"),
        Some((p, _)) => format!("{p}.{own}"),
        None => own,
    };
    let required = attrs.get("required").is_some_and(|v| v != "false");
    Some(Field {
        location,
        name,
        ty: attrs.get("type").cloned().unwrap_or_default(),
        required,
        line,
    })
}

/// The method and path of a cURL command: `--request`/`-X`, else POST when it sends data,
/// else GET; the first URL's path.
pub fn curl_route(text: &str) -> Option<(String, String)> {
    let flat = text.replace("\\\n", " ");
    let words = shell_words(&flat);
    if !words.iter().any(|w| w == "curl") {
        return None;
    }
    let mut method = None;
    let mut data = false;
    let mut url = None;
    let mut it = words.iter().peekable();
    while let Some(w) = it.next() {
        match w.as_str() {
            "-X" | "--request" => method = it.next().map(|m| m.to_ascii_uppercase()),
            "-d" | "--data" | "--data-raw" | "--data-binary" | "-F" | "--form" => {
                data = true;
                it.next();
            }
            w if w.starts_with("http://") || w.starts_with("https://") => {
                url.get_or_insert_with(|| w.to_owned());
            }
            _ => {}
        }
    }
    let method = method.unwrap_or_else(|| if data { "POST".into() } else { "GET".into() });
    Some((method, url_path(&url?)))
}

/// The JSON of a cURL command's `--data`, if any.
pub fn curl_data(text: &str) -> Option<String> {
    let flat = text.replace("\\\n", " ");
    let words = shell_words(&flat);
    let mut it = words.iter();
    while let Some(w) = it.next() {
        if matches!(w.as_str(), "-d" | "--data" | "--data-raw") {
            return it.next().cloned();
        }
    }
    None
}

/// The path of a URL (or of a path), without query; `${VAR}` and `$VAR` segments stay.
fn url_path(url: &str) -> String {
    let no_scheme = url.split_once("://").map_or(url, |(_, r)| r);
    let path = if url.contains("://") {
        no_scheme.find('/').map_or("/", |i| &no_scheme[i..])
    } else {
        no_scheme
    };
    path.split(['?', '#']).next().unwrap_or("/").to_owned()
}

/// Words of a shell command, with single and double quotes.
fn shell_words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if any || !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            (None, c) => word.push(c),
        }
    }
    if any || !word.is_empty() {
        out.push(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(fields: &[Field]) -> Vec<(String, String, String, bool, usize)> {
        fields
            .iter()
            .map(|f| (f.location.clone(), f.name.clone(), f.ty.clone(), f.required, f.line))
            .collect()
    }

    #[test]
    fn reads_the_markup_as_the_vendor_writes_it() {
        let page = "\
# List things

<Callout icon=\"lock\" color=\"#b2b1b1ff\">
  Private Preview, with a <b>bold</b> word and an a < b comparison.
</Callout>

## Query Parameters

<ParamField type='integer' path='limit' required>
  Default: `20`.
</ParamField>

<ParamField required=\"false\" path=\"after\" type=\"string\">
  A cursor.
</ParamField>

<ParamField
  query=\"order\"
  type=\"string\"
>
  Runs over lines; `query=` wins over the heading.
</ParamField>

## Response

<ResponseField name=\"data\" type=\"array | null\">
  Prose between tags.
  <Expandable title=\"properties\">
    <ResponseField name=\"id\" type=\"string\" required=\"true\" />
    <ResponseField name=\"usage\" type={\"object\"}>
      <Expandable title=\"usage\">
        <ResponseField name=\"bytes\" type=\"integer\">in bytes</ResponseField>
      </Expandable>
    </ResponseField>
  </Expandable>
</ResponseField>

<Note>A note.</Note>

<RequestExample>
  ```python Python theme={null}
  client.things.list()
  ```

  ```bash cURL theme={null}
  curl --location 'https://api.cerebras.ai/v1/things?limit=2' \\
  --header \"Authorization: Bearer ${KEY}\"
  ```
</RequestExample>

<ResponseExample>
  ```json First
  {\"data\": []}
  ```

  ```json Second
  {\"data\": null}
  ```
</ResponseExample>
";
        let p = parse("list-things.md", page).expect("a whole page");
        assert_eq!(p.title.as_deref(), Some("List things"));
        assert_eq!(p.source, Source::Vendor);
        assert_eq!(
            names(&p.params),
            vec![
                ("query".into(), "limit".into(), "integer".into(), true, 9),
                ("query".into(), "after".into(), "string".into(), false, 13),
                ("query".into(), "order".into(), "string".into(), false, 17),
            ]
        );
        assert_eq!(
            names(&p.response),
            vec![
                ("response".into(), "data".into(), "array | null".into(), false, 26),
                ("response".into(), "data[].id".into(), "string".into(), true, 29),
                ("response".into(), "data[].usage".into(), "object".into(), false, 30),
                (
                    "response".into(),
                    "data[].usage.bytes".into(),
                    "integer".into(),
                    false,
                    32
                ),
            ]
        );
        assert_eq!(p.api, Some(("GET".into(), "/v1/things".into(), 45)));
        let kinds: Vec<(&str, &str, usize)> = p.code.iter().map(|c| (c.kind, c.lang.as_str(), c.line)).collect();
        assert_eq!(
            kinds,
            vec![
                ("request", "python", 41),
                ("request", "bash", 45),
                ("response", "json", 52),
                ("response", "json", 56)
            ]
        );
        assert_eq!(p.code[3].text, "{\"data\": null}");
        assert_eq!(p.section_line("query"), 7);
        assert_eq!(p.section_line("response"), 24);
        assert_eq!(p.section_line("header"), 1);
    }

    #[test]
    fn a_parameter_takes_its_place_from_its_heading() {
        let page = "## Path Parameters\n<ParamField path=\"id\" type=\"string\" required=\"true\"></ParamField>\n\
                    ## Request\n<ParamField path=\"purpose\" type=\"string\" required></ParamField>\n\
                    ## Headers\n<ParamField path=\"X-Trace\" type=\"string\"></ParamField>\n";
        let p = parse("p.md", page).unwrap();
        let places: Vec<(&str, &str)> = p
            .params
            .iter()
            .map(|f| (f.location.as_str(), f.name.as_str()))
            .collect();
        assert_eq!(places, vec![("path", "id"), ("body", "purpose"), ("header", "X-Trace")]);
    }

    #[test]
    fn front_matter_gives_the_method_and_path() {
        let p = parse(
            "p.md",
            "---\ntitle: \"Cancel\"\nopenapi: \"DELETE /v1/batches/{batch_id}\"\n---\n# Cancel\n",
        )
        .unwrap();
        assert_eq!(p.api, Some(("DELETE".into(), "/v1/batches/{batch_id}".into(), 3)));
        assert_eq!(
            parse("p.md", "---\ntitle: x\n"),
            Err(PageError::Truncated {
                line: 1,
                inside: "the front matter".into()
            })
        );
    }

    #[test]
    fn an_unfinished_page_is_truncated_at_the_line_it_opened() {
        let open_code = "## Response\n<ResponseExample>\n  ```json\n  {\"id\": 1,\n";
        assert_eq!(
            parse("p.md", open_code),
            Err(PageError::Truncated {
                line: 3,
                inside: "a code block".into()
            })
        );
        let open_tag = "## Response\n\n<ResponseField name=\"id\" type=\"str";
        assert_eq!(
            parse("p.md", open_tag),
            Err(PageError::Truncated {
                line: 3,
                inside: "the tag `<ResponseField name=\"id\" type=\"str`".into()
            })
        );
        let open_field = "## Response\n<ResponseField name=\"id\" type=\"string\">\n  The id.\n";
        assert_eq!(
            parse("p.md", open_field),
            Err(PageError::Truncated {
                line: 2,
                inside: "`<ResponseField>`".into()
            })
        );
    }

    #[test]
    fn broken_markup_is_malformed_at_its_line() {
        let stray = "<ResponseField name=\"a\" type=\"string\">\n</Expandable>\n";
        assert_eq!(
            parse("p.md", stray),
            Err(PageError::Malformed {
                line: 2,
                message: "`</Expandable>` closes nothing".into()
            })
        );
        let crossed = "<ResponseField name=\"a\" type=\"object\">\n<Expandable>\n</ResponseField>\n";
        assert!(matches!(
            parse("p.md", crossed),
            Err(PageError::Malformed { line: 3, .. })
        ));
        let unquoted = format!("<ParamField path=\"a {}", "\nmore".repeat(30));
        assert!(matches!(
            parse("p.md", &unquoted),
            Err(PageError::Malformed { line: 1, .. })
        ));
    }

    #[test]
    fn curl_commands_give_method_path_and_body() {
        assert_eq!(
            curl_route("curl -X DELETE https://api.cerebras.ai/v1/batches/b1 \\\n  -H \"A: b\""),
            Some(("DELETE".into(), "/v1/batches/b1".into()))
        );
        assert_eq!(
            curl_route("curl https://api.cerebras.ai/v1/files -F purpose=\"batch\""),
            Some(("POST".into(), "/v1/files".into()))
        );
        assert_eq!(
            curl_data("curl https://x/v1/batches --data '{\"a\": 1}'").as_deref(),
            Some("{\"a\": 1}")
        );
        assert_eq!(curl_route("echo hi"), None);
    }
}
