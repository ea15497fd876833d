//! `ostatus poco parse`: read Portable Contacts documents into normalised JSON.

use clap::{Args as ClapArgs, Subcommand};
use ostatus_portable_contacts::{Contact, Response};
use serde_json::Value;

use crate::{CliError, read_input};

/// `ostatus poco`.
#[derive(ClapArgs)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Subcommand)]
enum Sub {
    /// Parse a PoCo response, a single contact, or an Atom author with poco:
    /// fields; print the contacts as a JSON array in normalised form.
    Parse {
        /// The input is XML (detected from the first byte when not given).
        #[arg(long)]
        xml: bool,
        /// The input file (`-` or nothing for standard input).
        file: Option<String>,
    },
}

pub(crate) fn run(args: &Args) -> Result<String, CliError> {
    let Sub::Parse { xml, file } = &args.command;
    let input = read_input(file.as_deref())?;
    let first = input.iter().find(|b| !b.is_ascii_whitespace()).copied();
    let contacts = if *xml || first == Some(b'<') {
        parse_xml(&input)?
    } else {
        parse_json(&input)?
    };
    let out = Value::Array(contacts.iter().map(Contact::to_json_value).collect());
    Ok(serde_json::to_string_pretty(&out).unwrap_or_default())
}

fn usage(e: impl std::fmt::Display) -> CliError {
    CliError::Usage(format!("poco parse: {e}"))
}

fn parse_json(input: &[u8]) -> Result<Vec<Contact>, CliError> {
    let v: Value = serde_json::from_slice(input).map_err(usage)?;
    match &v {
        Value::Array(items) => items
            .iter()
            .map(|c| Contact::from_json_value(c).map_err(usage))
            .collect(),
        Value::Object(m) if m.contains_key("entry") => {
            let r = Response::from_json(input).map_err(usage)?;
            Ok(r.contacts().into_iter().cloned().collect())
        }
        Value::Object(_) => Ok(vec![Contact::from_json_value(&v).map_err(usage)?]),
        _ => Err(usage("expected a response, a contact or an array of contacts")),
    }
}

fn parse_xml(input: &[u8]) -> Result<Vec<Contact>, CliError> {
    ostatus_portable_contacts::contacts_from_xml(input).map_err(usage)
}
