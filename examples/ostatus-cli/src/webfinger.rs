//! `ostatus webfinger`: resolve a resource, or convert XRD and JRD.

use clap::{Args as ClapArgs, Subcommand, ValueEnum};
use ostatus_webfinger::client::{Client, ClientConfig};
use ostatus_webfinger::resolver::ResolveOptions;
use ostatus_webfinger::{Descriptor, NetPolicy, Rel, Resource};

use crate::{CliError, OutputFormat, read_input};

/// `ostatus webfinger`.
#[derive(ClapArgs)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct Args {
    /// The resource: `user@host`, `acct:user@host`, or a profile URL.
    resource: Option<String>,
    /// Ask only for links of this relation (repeatable).
    #[arg(long = "rel")]
    rels: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Json)]
    format: OutputFormat,
    #[command(subcommand)]
    command: Option<Sub>,
}

#[derive(Subcommand)]
enum Sub {
    /// Convert an XRD or JRD document (host-meta included) to the other form.
    Convert {
        /// The target representation.
        #[arg(long, value_enum)]
        to: Target,
        /// The input file (`-` or nothing for standard input).
        file: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Target {
    /// JSON resource descriptor.
    Jrd,
    /// XML resource descriptor.
    Xrd,
}

pub(crate) async fn run(args: &Args, insecure: bool) -> Result<String, CliError> {
    let format = args.format;
    if let Some(Sub::Convert { to, file }) = &args.command {
        return convert(*to, file.as_deref());
    }
    let Some(raw) = &args.resource else {
        return Err(CliError::Usage(
            "webfinger: give a RESOURCE (user@host, acct:user@host or a URL), or use `convert`".into(),
        ));
    };
    let resource = Resource::parse_lenient(raw).map_err(|e| CliError::Usage(format!("webfinger: {e}")))?;
    let mut config = ClientConfig::default();
    let mut opts = ResolveOptions::default();
    if insecure {
        config.net = NetPolicy::dangerous_allow_http_and_private();
        opts.net = config.net.clone();
    }
    opts.rels = args.rels.iter().map(|r| Rel::from(r.as_str())).collect();
    let client = Client::new(config).map_err(|e| CliError::Failed(e.to_string()))?;
    let found = client
        .resolve_with(&resource, opts)
        .await
        .map_err(|e| CliError::Failed(e.to_string()))?;
    Ok(match format {
        OutputFormat::Json => found.descriptor.to_jrd_pretty(),
        OutputFormat::Text => {
            let mut s = format!("resolved from: {}\n", found.url);
            s.push_str(&text(&found.descriptor));
            s
        }
    })
}

fn convert(to: Target, file: Option<&str>) -> Result<String, CliError> {
    let input = read_input(file)?;
    let d =
        Descriptor::parse(&input, None).map_err(|e| CliError::Usage(format!("webfinger convert: {e}")))?;
    Ok(match to {
        Target::Jrd => d.to_jrd_pretty(),
        Target::Xrd => d.to_xrd().trim_end().to_owned(),
    })
}

/// The descriptor for people: one line per field.
fn text(d: &Descriptor) -> String {
    let mut s = String::new();
    if let Some(v) = &d.subject {
        s.push_str(&format!("subject:  {v}\n"));
    }
    if let Some(v) = &d.expires {
        s.push_str(&format!("expires:  {v}\n"));
    }
    for a in &d.aliases {
        s.push_str(&format!("alias:    {a}\n"));
    }
    for p in &d.properties {
        s.push_str(&format!(
            "property: {} = {}\n",
            p.type_,
            p.value.as_deref().unwrap_or("(null)")
        ));
    }
    for l in &d.links {
        let target = l.href.as_deref().or(l.template.as_deref()).unwrap_or("");
        match &l.type_ {
            Some(t) => s.push_str(&format!("link:     {} [{t}] {target}\n", l.rel)),
            None => s.push_str(&format!("link:     {} {target}\n", l.rel)),
        }
    }
    s.trim_end().to_owned()
}
