//! The `fields` parameter with Graph's field expansion:
//! `id,participants,messages.limit(10){id,from,message}`.

use super::error::{GraphError, GraphResult};

/// One requested field, with its modifiers and sub-fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Field name.
    pub name: String,
    /// `.limit(N)`, kept as written.
    pub limit: Option<String>,
    /// `{...}` sub-fields, when given.
    pub children: Option<Vec<Field>>,
}

impl Field {
    /// A field without modifiers or sub-fields.
    pub fn plain(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            limit: None,
            children: None,
        }
    }
}

/// Parses a `fields` value; `None` or empty gives `defaults`.
pub fn parse_or(raw: Option<&str>, defaults: &[&str]) -> GraphResult<Vec<Field>> {
    match raw.map(str::trim) {
        None | Some("") => Ok(defaults.iter().map(|d| Field::plain(d)).collect()),
        Some(text) => parse(text),
    }
}

/// Writes fields back in Graph's syntax, for the `fields` of a nested `paging.next`.
pub fn to_text(fields: &[Field]) -> String {
    fields
        .iter()
        .map(|f| {
            let mut text = f.name.clone();
            if let Some(limit) = &f.limit {
                text.push_str(&format!(".limit({limit})"));
            }
            if let Some(children) = &f.children {
                text.push_str(&format!("{{{}}}", to_text(children)));
            }
            text
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Fails with Graph's error for the first field `known` does not list.
pub fn check_known(fields: &[Field], known: &[&str], node_type: &str) -> GraphResult<()> {
    match fields.iter().find(|f| !known.contains(&f.name.as_str())) {
        Some(unknown) => Err(GraphError::nonexisting_field(&unknown.name, node_type)),
        None => Ok(()),
    }
}

/// Keeps only the keys `children` names (and `id`), when sub-fields were given.
pub fn select(value: serde_json::Value, children: Option<&[Field]>) -> serde_json::Value {
    let (Some(children), serde_json::Value::Object(map)) = (children, &value) else {
        return value;
    };
    let kept = map
        .iter()
        .filter(|(k, _)| *k == "id" || children.iter().any(|c| &c.name == *k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    serde_json::Value::Object(kept)
}

/// Parses a `fields` value.
pub fn parse(input: &str) -> GraphResult<Vec<Field>> {
    let mut parser = Parser {
        chars: input.chars().collect(),
        at: 0,
        depth: 0,
        input,
    };
    let list = parser.list()?;
    parser.skip_spaces();
    if parser.at < parser.chars.len() {
        return Err(parser.error());
    }
    Ok(list)
}

/// Deeper nesting than any real query needs; it bounds the recursion.
const MAX_DEPTH: usize = 8;

struct Parser<'a> {
    chars: Vec<char>,
    at: usize,
    depth: usize,
    input: &'a str,
}

impl Parser<'_> {
    fn error(&self) -> GraphError {
        GraphError::invalid_param(format!(
            "Syntax error \"Unexpected character\" at character {}: {}",
            self.at, self.input
        ))
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    fn eat(&mut self, expected: char) -> bool {
        self.skip_spaces();
        if self.peek() == Some(expected) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn list(&mut self) -> GraphResult<Vec<Field>> {
        let mut fields = vec![self.field()?];
        while self.eat(',') {
            fields.push(self.field()?);
        }
        Ok(fields)
    }

    fn name(&mut self) -> GraphResult<String> {
        self.skip_spaces();
        let start = self.at;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            self.at += 1;
        }
        if start == self.at {
            return Err(self.error());
        }
        Ok(self.chars[start..self.at].iter().collect())
    }

    fn field(&mut self) -> GraphResult<Field> {
        let mut field = Field::plain(&self.name()?);
        while self.eat('.') {
            let modifier = self.name()?;
            if !self.eat('(') {
                return Err(self.error());
            }
            let start = self.at;
            while self.peek().is_some_and(|c| c != ')') {
                self.at += 1;
            }
            let argument: String = self.chars[start..self.at].iter().collect();
            if !self.eat(')') {
                return Err(self.error());
            }
            if modifier == "limit" {
                field.limit = Some(argument.trim().to_owned());
            }
        }
        if self.eat('{') {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(self.error());
            }
            field.children = Some(self.list()?);
            self.depth -= 1;
            if !self.eat('}') {
                return Err(self.error());
            }
        }
        Ok(field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_expansion_with_limit_and_children() {
        let fields =
            parse("id, participants,messages.limit(10){id,from,attachments{image_data}}").unwrap();
        assert_eq!(fields.len(), 3);
        assert_eq!(fields[2].name, "messages");
        assert_eq!(fields[2].limit.as_deref(), Some("10"));
        let children = fields[2].children.as_ref().unwrap();
        assert_eq!(children[2].children.as_ref().unwrap()[0].name, "image_data");
        assert_eq!(
            to_text(&fields),
            "id,participants,messages.limit(10){id,from,attachments{image_data}}"
        );
    }

    #[test]
    fn rejects_broken_syntax_with_code_100() {
        for bad in ["id,", "messages{id", "messages.limit(3", "a b", "{id}"] {
            assert_eq!(parse(bad).unwrap_err().code, 100, "{bad}");
        }
        let deep = format!("{}id{}", "a{".repeat(10_000), "}".repeat(10_000));
        assert_eq!(parse(&deep).unwrap_err().code, 100, "nesting is bounded");
    }
}
