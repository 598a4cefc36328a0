//! The CSV reader on arbitrary bytes: an error or a table, never a panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use mlp::data::csv::{CsvOptions, Table};

fuzz_target!(|bytes: &[u8]| {
    let _ = Table::parse(Path::new("fuzz.csv"), bytes, CsvOptions::default());
});
