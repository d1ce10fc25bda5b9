//! The pairs file (`a,b,same`) and the scores file (`a,b,same,score`).
//!
//! Lenient where it costs nothing: header names in any case and order, spaces around fields,
//! blank lines, a UTF-8 byte-order mark, CRLF line ends, double-quoted fields, and `same`
//! spelled Yes/No, Y/N, True/False or 1/0 in any case. Anything else is an error naming the
//! line.

use std::fmt::Write as _;

use crate::shared::CliError;

/// One labelled pair of image paths, as written in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    pub a: String,
    pub b: String,
    /// Whether both images show the same person.
    pub same: bool,
}

/// A CSV file read leniently (see the module docs): its header's column names, lower-cased,
/// and each data line's fields with its line number, every line as wide as the header.
pub struct Table {
    pub names: Vec<String>,
    pub header_line: usize,
    pub header: String,
    pub rows: Vec<(usize, Vec<String>)>,
}

impl Table {
    /// The index of the column called `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }
}

/// An error on line `line` of the file `origin`.
pub fn line_error(origin: &str, line: usize, what: impl std::fmt::Display) -> CliError {
    CliError::new(format!("{origin} line {line}: {what}"))
}

/// Reads the text of a CSV file; `origin` names it in errors, `expected` says what its
/// header should be when it is empty.
pub fn read_table(text: &str, origin: &str, expected: &str) -> Result<Table, CliError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((header_line, header)) = lines.next() else {
        return Err(CliError::new(format!(
            "{origin} is empty: expected {expected}"
        )));
    };
    let names: Vec<String> = split_fields(header)
        .map_err(|e| line_error(origin, header_line, e))?
        .iter()
        .map(|f| f.trim().to_ascii_lowercase())
        .collect();
    let mut rows = Vec::new();
    for (n, line) in lines {
        let fields = split_fields(line).map_err(|e| line_error(origin, n, e))?;
        if fields.len() != names.len() {
            return Err(line_error(
                origin,
                n,
                format!(
                    "expected {} fields like the header ({}), found {}",
                    names.len(),
                    names.join(","),
                    fields.len()
                ),
            ));
        }
        rows.push((n, fields));
    }
    Ok(Table {
        names,
        header_line,
        header: header.trim().to_string(),
        rows,
    })
}

/// Parses the text of a pairs file; `origin` names it in errors.
pub fn parse_pairs(text: &str, origin: &str) -> Result<Vec<Pair>, CliError> {
    let table = read_table(
        text,
        origin,
        "a header line `a,b,same` and one pair per line",
    )?;
    let err = |line: usize, what: String| line_error(origin, line, what);
    let (Some(ia), Some(ib), Some(is)) =
        (table.column("a"), table.column("b"), table.column("same"))
    else {
        return Err(err(
            table.header_line,
            format!(
                "the header must name the columns a,b,same, found `{}`",
                table.header
            ),
        ));
    };
    let mut pairs = Vec::with_capacity(table.rows.len());
    for (n, fields) in &table.rows {
        let n = *n;
        let path = |i: usize, name: &str| {
            let p = fields[i].trim();
            if p.is_empty() {
                Err(err(
                    n,
                    format!("the image path in column `{name}` is empty"),
                ))
            } else {
                Ok(p.to_string())
            }
        };
        let same = parse_same(&fields[is]).ok_or_else(|| {
            err(
                n,
                format!(
                    "column `same` must be Yes or No, found `{}`",
                    fields[is].trim()
                ),
            )
        })?;
        pairs.push(Pair {
            a: path(ia, "a")?,
            b: path(ib, "b")?,
            same,
        });
    }
    Ok(pairs)
}

fn parse_same(field: &str) -> Option<bool> {
    match field.trim().to_ascii_lowercase().as_str() {
        "yes" | "y" | "true" | "1" => Some(true),
        "no" | "n" | "false" | "0" => Some(false),
        _ => None,
    }
}

/// Splits one CSV line on commas, honouring double-quoted fields (`""` is a quote inside one).
fn split_fields(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let mut field = String::new();
        while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
            chars.next();
        }
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => return Err("a quoted field is not closed".into()),
                }
            }
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Ok(fields);
                }
                Some(',') => fields.push(field),
                Some(c) => return Err(format!("unexpected `{c}` after a quoted field")),
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field);
                        return Ok(fields);
                    }
                    Some(',') => break,
                    Some(c) => field.push(c),
                }
            }
            fields.push(field);
        }
    }
}

/// One field for a CSV file, quoted when it needs to be.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) || text.trim() != text {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// The scores file: `a,b,same,score`, one line per pair in input order; the score is empty
/// for a skipped pair.
pub fn scores_csv(pairs: &[Pair], scores: &[Option<f32>]) -> String {
    let mut out = String::from("a,b,same,score\n");
    for (pair, score) in pairs.iter().zip(scores) {
        let _ = write!(
            out,
            "{},{},{},",
            csv_field(&pair.a),
            csv_field(&pair.b),
            if pair.same { "Yes" } else { "No" }
        );
        if let Some(s) = score {
            let _ = write!(out, "{s:.6}");
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_about_case_spaces_order_quotes_and_blank_lines() {
        let text =
            "\u{feff}Same , A,B\r\n\r\n yes ,x.jpg, \"y,1.jpg\"\r\nNO,\"q\"\"r.jpg\",s.jpg\n";
        let pairs = parse_pairs(text, "p.csv").unwrap();
        assert_eq!(
            pairs,
            vec![
                Pair {
                    a: "x.jpg".into(),
                    b: "y,1.jpg".into(),
                    same: true
                },
                Pair {
                    a: "q\"r.jpg".into(),
                    b: "s.jpg".into(),
                    same: false
                },
            ]
        );
    }

    #[test]
    fn malformed_lines_are_reported_with_their_number() {
        let e = parse_pairs("a,b,same\nx,y,Yes\n\nx,y,maybe\n", "p.csv").unwrap_err();
        assert!(e.message().contains("p.csv line 4"), "{e}");
        let e = parse_pairs("a,b,same\nx,y\n", "p.csv").unwrap_err();
        assert!(e.message().contains("line 2"), "{e}");
        let e = parse_pairs("x,y,z\n", "p.csv").unwrap_err();
        assert!(e.message().contains("line 1"), "{e}");
        let e = parse_pairs("a,b,same\n\"x,y,No\n", "p.csv").unwrap_err();
        assert!(e.message().contains("line 2"), "{e}");
        assert!(parse_pairs("  \n", "p.csv").is_err());
    }

    #[test]
    fn scores_round_trip_through_the_parser() {
        let pairs = vec![
            Pair {
                a: "a b,c.jpg".into(),
                b: "d.jpg".into(),
                same: true,
            },
            Pair {
                a: "e.jpg".into(),
                b: "f.jpg".into(),
                same: false,
            },
        ];
        let text = scores_csv(&pairs, &[Some(0.5), None]);
        assert_eq!(text.lines().count(), 3);
        assert!(text.ends_with("e.jpg,f.jpg,No,\n"));
        let parsed: Vec<Pair> = text
            .lines()
            .skip(1)
            .map(|l| {
                let f = split_fields(l).unwrap();
                Pair {
                    a: f[0].clone(),
                    b: f[1].clone(),
                    same: parse_same(&f[2]).unwrap(),
                }
            })
            .collect();
        assert_eq!(parsed, pairs);
    }
}
