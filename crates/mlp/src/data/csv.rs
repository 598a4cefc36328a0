//! CSV files into a [`Table`] of typed columns, with errors that name the
//! file, the line and the column.
//!
//! A column is numeric when most of its values parse as numbers; a value in
//! it that does not (or is NaN, infinite or empty) is an error naming its
//! line. Other columns are text (class labels, categories).

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// How to read a CSV file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CsvOptions {
    /// Whether the first line names the columns (else they are called `0`, `1`, …).
    pub header: Header,
    /// The field delimiter (default `,`).
    pub delimiter: u8,
}

/// Whether a CSV file starts with a header line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Header {
    /// The first line names the columns (the default).
    #[default]
    Present,
    /// Every line is data.
    Absent,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self { header: Header::Present, delimiter: b',' }
    }
}

/// The values of one column.
#[derive(Clone, Debug, PartialEq)]
pub enum Column {
    /// Numbers, all finite.
    Numeric(Vec<f64>),
    /// Text.
    Text(Vec<String>),
}

/// A CSV file in memory: named, typed columns of equal length.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// Where it came from (for messages).
    pub source: PathBuf,
    /// Column names.
    pub names: Vec<String>,
    /// Column values.
    pub columns: Vec<Column>,
    /// The 1-based file line of each data row (for messages).
    pub lines: Vec<u64>,
}

fn csv_error(path: &Path, line: u64, message: impl Into<String>) -> Error {
    Error::Csv { path: path.to_path_buf(), line, message: message.into() }
}

/// The offset of a quote that opens a field and is never closed. The csv
/// crate reads such a field to the end of the file without complaint, so
/// the rows after it would silently become one text value.
fn unclosed_quote(bytes: &[u8], delimiter: u8) -> Option<usize> {
    let (mut open, mut field_start, mut k) = (None, true, 0);
    while k < bytes.len() {
        let b = bytes[k];
        if open.is_some() {
            if b == b'"' && bytes.get(k + 1) == Some(&b'"') {
                k += 1; // an escaped quote
            } else if b == b'"' {
                (open, field_start) = (None, false);
            }
        } else {
            // As in the csv crate, a quote inside an unquoted field is text.
            if b == b'"' && field_start {
                open = Some(k);
            }
            field_start = matches!(b, b'\n' | b'\r') || b == delimiter;
        }
        k += 1;
    }
    open
}

impl Table {
    /// Reads a CSV file (gzip-compressed if its name ends in `.gz`).
    ///
    /// # Errors
    /// [`Error::Io`] if it cannot be read; [`Error::Csv`] naming the line for
    /// an empty file, a header without rows, a ragged row, invalid UTF-8, or a
    /// bad value in a numeric column.
    pub fn read(path: &Path, options: CsvOptions) -> Result<Self> {
        let io = |source| Error::Io { path: path.to_path_buf(), source };
        let mut bytes = std::fs::read(path).map_err(io)?;
        if path.extension().is_some_and(|e| e == "gz") {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(bytes.as_slice()).read_to_end(&mut out).map_err(io)?;
            bytes = out;
        }
        Self::parse(path, &bytes, options)
    }

    /// Parses CSV bytes; `path` only names the source in messages.
    ///
    /// # Errors
    /// As [`read`](Self::read).
    pub fn parse(path: &Path, bytes: &[u8], options: CsvOptions) -> Result<Self> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .delimiter(options.delimiter)
            .flexible(true)
            .from_reader(bytes);
        // The csv crate does not count the blank lines it skips, so lines are
        // found from byte offsets.
        let newlines: Vec<usize> =
            bytes.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(k, _)| k).collect();
        let line_of = |byte: u64| {
            // A record's position may be that of the blank lines before it.
            let mut at = byte as usize;
            while at < bytes.len() && matches!(bytes[at], b'\n' | b'\r') {
                at += 1;
            }
            newlines.partition_point(|&k| k < at) as u64 + 1
        };
        if let Some(quote) = unclosed_quote(bytes, options.delimiter) {
            let message = "a quoted field opens here and is never closed";
            return Err(csv_error(path, line_of(quote as u64), message));
        }
        let mut records = Vec::new();
        let mut lines = Vec::new();
        for record in reader.byte_records() {
            let record = record.map_err(|e| {
                let line = e.position().map_or(0, |p| line_of(p.byte()));
                csv_error(path, line, e.to_string())
            })?;
            let line = record.position().map_or(0, |p| line_of(p.byte()));
            if record.len() == 1 && record[0].iter().all(u8::is_ascii_whitespace) {
                continue; // blank line
            }
            let fields: Vec<String> = record
                .iter()
                .enumerate()
                .map(|(k, f)| {
                    std::str::from_utf8(f).map(|s| s.trim().to_string()).map_err(|_| {
                        csv_error(path, line, format!("field {} is not valid UTF-8", k + 1))
                    })
                })
                .collect::<Result<_>>()?;
            records.push(fields);
            lines.push(line);
        }
        if records.is_empty() {
            return Err(csv_error(path, 1, "the file is empty"));
        }
        let mut names: Vec<String> = match options.header {
            Header::Present => {
                lines.remove(0);
                records.remove(0)
            }
            Header::Absent => (0..records[0].len()).map(|k| k.to_string()).collect(),
        };
        if records.is_empty() {
            return Err(csv_error(path, 2, "no data rows after the header"));
        }
        for (j, name) in names.iter().enumerate() {
            if let Some(k) = names[..j].iter().position(|n| n == name) {
                let message = format!("columns {} and {} are both named {name:?}", k + 1, j + 1);
                return Err(csv_error(path, 1, message));
            }
        }
        let width = names.len();
        for (record, &line) in records.iter().zip(&lines) {
            if record.len() != width {
                return Err(csv_error(
                    path,
                    line,
                    format!("expected {width} fields, found {}", record.len()),
                ));
            }
        }
        // A delimiter at the end of every line, as some spreadsheets write,
        // makes a last column with no name and no values: not a column.
        let unnamed = options.header == Header::Absent || names[width - 1].is_empty();
        if width > 1 && unnamed && records.iter().all(|r| r[width - 1].is_empty()) {
            names.pop();
            records.iter_mut().for_each(|r| _ = r.pop());
        }
        let width = names.len();
        let mut columns = Vec::with_capacity(width);
        for (j, name) in names.iter().enumerate() {
            let parsed: Vec<Option<f64>> =
                records.iter().map(|r| r[j].parse::<f64>().ok()).collect();
            let numeric = parsed.iter().filter(|v| v.is_some()).count();
            if 2 * numeric > parsed.len() {
                let mut values = Vec::with_capacity(parsed.len());
                for ((v, record), &line) in parsed.iter().zip(&records).zip(&lines) {
                    let field = &record[j];
                    let column = format!("column {} ({})", j + 1, super::quoted(name));
                    match v {
                        Some(v) if v.is_finite() => values.push(*v),
                        Some(_) => {
                            return Err(csv_error(
                                path,
                                line,
                                format!("{column}: {} is not finite", super::quoted(field)),
                            ));
                        }
                        None if field.is_empty() => {
                            return Err(csv_error(path, line, format!("{column}: missing value")));
                        }
                        None => {
                            return Err(csv_error(
                                path,
                                line,
                                format!("{column}: {} is not a number", super::quoted(field)),
                            ));
                        }
                    }
                }
                columns.push(Column::Numeric(values));
            } else {
                columns.push(Column::Text(records.iter().map(|r| r[j].clone()).collect()));
            }
        }
        Ok(Self { source: path.to_path_buf(), names, columns, lines })
    }

    /// The number of data rows.
    pub fn rows(&self) -> usize {
        self.lines.len()
    }

    /// The index of a column given by name or 0-based index.
    ///
    /// # Errors
    /// [`Error::Csv`] naming the file and listing the columns.
    pub fn column_index(&self, key: &str) -> Result<usize> {
        if let Some(k) = self.names.iter().position(|n| n == key) {
            return Ok(k);
        }
        if let Ok(k) = key.parse::<usize>()
            && k < self.names.len()
        {
            return Ok(k);
        }
        Err(csv_error(
            &self.source,
            1,
            format!("no column {key:?}; the columns are {}", self.names.join(", ")),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Table> {
        Table::parse(Path::new("data.csv"), text.as_bytes(), CsvOptions::default())
    }

    #[test]
    fn columns_are_typed_and_errors_name_file_line_and_column() {
        let t = parse("x,colour,y\n1,red,2.5\n 2 ,blue,3\n\n4,red,-1e3\n").unwrap();
        assert_eq!(t.columns[0], Column::Numeric(vec![1.0, 2.0, 4.0]));
        assert_eq!(t.columns[1], Column::Text(vec!["red".into(), "blue".into(), "red".into()]));
        assert_eq!(t.lines, [2, 3, 5]);
        let cases = [
            ("", "data.csv:1: the file is empty"),
            ("a,b\n", "data.csv:2: no data rows after the header"),
            ("a,b\n1,2\n3\n", "data.csv:3: expected 2 fields, found 1"),
            ("a,b\n1,2\n3,x\n4,5\n", "data.csv:3: column 2 (\"b\"): \"x\" is not a number"),
            ("a,b\n1,2\n3,nan\n4,5\n", "data.csv:3: column 2 (\"b\"): \"nan\" is not finite"),
            ("a,b\n1,2\n3,inf\n4,5\n", "data.csv:3: column 2 (\"b\"): \"inf\" is not finite"),
            ("a,b\n1,2\n3,\n4,5\n", "data.csv:3: column 2 (\"b\"): missing value"),
            ("a,y,y\n1,2,3\n", "data.csv:1: columns 2 and 3 are both named \"y\""),
            ("a,b\n1,2\n3,\"4\n5,6\n", "data.csv:3: a quoted field opens here and is never closed"),
        ];
        for (text, message) in cases {
            assert_eq!(parse(text).unwrap_err().to_string(), message, "{text:?}");
        }
        let bad_utf8 = Table::parse(Path::new("d.csv"), b"a\n\xff\n", CsvOptions::default());
        assert_eq!(bad_utf8.unwrap_err().to_string(), "d.csv:2: field 1 is not valid UTF-8");
    }

    #[test]
    fn columns_are_found_by_name_or_index_and_headerless_files_number_them() {
        let t = parse("x,y\n1,2\n").unwrap();
        assert_eq!((t.column_index("y").unwrap(), t.column_index("0").unwrap()), (1, 0));
        let err = t.column_index("z").unwrap_err().to_string();
        assert_eq!(err, "data.csv:1: no column \"z\"; the columns are x, y");
        let options = CsvOptions { header: Header::Absent, delimiter: b';' };
        let t = Table::parse(Path::new("d.csv"), b"1;2\n3;4\n", options).unwrap();
        assert_eq!((t.names.clone(), t.rows()), (vec!["0".to_string(), "1".to_string()], 2));
    }

    #[test]
    fn quoted_fields_may_hold_quotes_and_newlines_and_a_trailing_delimiter_adds_no_column() {
        let t = parse("a,b\n\"x \"\"y\"\"\n z\",1\nw\"v,2\n").unwrap();
        assert_eq!(t.columns[0], Column::Text(vec!["x \"y\"\n z".into(), "w\"v".into()]));
        for text in ["a,b,\n1,2,\n3,4,\n", "a,b,\r\n1,2,\r\n3,4,\r\n"] {
            let t = parse(text).unwrap();
            assert_eq!((t.names.clone(), t.columns.len()), (vec!["a".into(), "b".into()], 2));
        }
        let options = CsvOptions { header: Header::Absent, ..CsvOptions::default() };
        let t = Table::parse(Path::new("d.csv"), b"1,2,\n3,4,\n", options).unwrap();
        assert_eq!(t.columns, [Column::Numeric(vec![1.0, 3.0]), Column::Numeric(vec![2.0, 4.0])]);
        // A named last column with empty values is kept, and its gaps reported.
        assert!(parse("a,b,c\n1,2,\n3,4,\n").unwrap().columns.len() == 3);
    }
}
