//! `egress-policy import`: flow logs → observation records
//! ([`egress_policy_cli::import`]).

use std::io::Read;
use std::path::{Path, PathBuf};

use egress_policy_cli::import::{ClientFrom, ClientMap, Format, Importer, Options};
use egress_policy_core::record::{Overflow, Record};

use super::{Fatal, Status, status};
use crate::out::Out;

/// The input formats on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum FormatArg {
    /// Calico `Log` lines in the kernel log (prefix `calico-packet` by default).
    KernelLog,
    /// `hubble observe -o json`.
    Hubble,
    /// nftables / iptables `log` lines.
    NftablesLog,
}

/// How Hubble and kubectl tables name clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ClientFromArg {
    /// The pod's namespace.
    Namespace,
    /// `namespace.workload`.
    Workload,
}

/// The arguments of `import`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The input format.
    #[arg(long, value_name = "FORMAT")]
    format: FormatArg,
    /// Only lines holding TEXT are flows (kernel-log default: calico-packet).
    #[arg(long, value_name = "TEXT")]
    prefix: Option<String>,
    /// Source address or CIDR → client name: CSV `ADDRESS,NAME`, a JSON
    /// object, or `kubectl get pods -A -o wide` output.
    #[arg(long, value_name = "FILE")]
    clients: Option<PathBuf>,
    /// How clients are named from Hubble labels and kubectl tables.
    #[arg(long, value_name = "HOW", default_value = "namespace")]
    client_from: ClientFromArg,
    /// Resolver answers that name destination addresses (dnsmasq `log-queries`
    /// lines, or `NAME,ADDRESS`); repeatable.
    #[arg(long, value_name = "FILE")]
    dns_log: Vec<PathBuf>,
    /// The year of syslog time stamps that carry none (default: this year).
    #[arg(long, value_name = "YEAR")]
    year: Option<i32>,
    /// Write the observation records to FILE instead of standard output.
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Flow logs; `-` is standard input; gzip is read as such.
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
}

/// The most a gzip file may inflate to (a small file must not exhaust memory).
const MAX_INFLATED: u64 = 4 << 30;

/// A file's text: `-` is standard input; gzip (by its magic bytes) is inflated.
fn read_text(path: &Path) -> Result<String, Fatal> {
    let name = path.display().to_string();
    let mut bytes = Vec::new();
    let result = if name == "-" {
        std::io::stdin().lock().read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut bytes))
    };
    result.map_err(|e| Fatal(format!("{name}: {e}")))?;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut inflated = Vec::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .take(MAX_INFLATED + 1)
            .read_to_end(&mut inflated)
            .map_err(|e| Fatal(format!("{name}: gzip: {e}")))?;
        if inflated.len() as u64 > MAX_INFLATED {
            return Err(Fatal(format!(
                "{name}: inflates to more than {} GiB: split it, or give it uncompressed",
                MAX_INFLATED >> 30
            )));
        }
        bytes = inflated;
    }
    String::from_utf8(bytes).map_err(|e| Fatal(format!("{name}: not UTF-8 text ({e})")))
}

pub(crate) fn run(args: Args, out: &mut Out) -> Status {
    let format = match args.format {
        FormatArg::KernelLog => Format::KernelLog,
        FormatArg::Hubble => Format::Hubble,
        FormatArg::NftablesLog => Format::NftablesLog,
    };
    let mut opts = Options::new(format);
    if args.prefix.is_some() {
        opts.prefix = args.prefix;
    }
    opts.client_from = match args.client_from {
        ClientFromArg::Namespace => ClientFrom::Namespace,
        ClientFromArg::Workload => ClientFrom::Workload,
    };
    if let Some(year) = args.year {
        opts.year = year;
    }
    if let Some(path) = &args.clients {
        opts.clients = ClientMap::parse(&path.display().to_string(), &read_text(path)?, opts.client_from).map_err(Fatal)?;
    }
    let mut importer = Importer::new();
    for path in &args.dns_log {
        importer
            .read_dns_log(&path.display().to_string(), &read_text(path)?, &opts)
            .map_err(Fatal)?;
    }
    for path in &args.files {
        importer
            .read(&path.display().to_string(), &read_text(path)?, &opts)
            .map_err(Fatal)?;
    }
    let records = importer.observations(format);
    let mut text: String = records.iter().map(|o| Record::Observation(o.clone()).to_json() + "\n").collect();
    if importer.stats.lost > 0 {
        // The capture is incomplete: say so where `suggest` will read it.
        let at = importer
            .stats
            .lost_at
            .clone()
            .unwrap_or_else(|| egress_policy_core::time::format_rfc3339(std::time::SystemTime::now()));
        text += &(Record::Overflow(Overflow::new(importer.stats.lost, at)).to_json() + "\n");
    }
    match &args.output {
        Some(path) => std::fs::write(path, &text).map_err(|e| Fatal(format!("{}: {e}", path.display())))?,
        None => {
            out.text(&text)?;
            out.flush()?;
        }
    }

    let s = &importer.stats;
    for a in opts.clients.ambiguous() {
        eprintln!("egress-policy import: --clients: {a}: left out of the map");
    }
    if s.lost > 0 {
        eprintln!(
            "egress-policy import: the capture lost {} events (written as an overflow record)",
            s.lost
        );
    }
    eprintln!(
        "egress-policy import: {} records from {} flows in {} lines ({} other lines, {} not egress, {} not TCP/UDP, {} from unmapped sources, {} to addresses several names share)",
        records.len(),
        s.flows,
        s.lines,
        s.other,
        s.not_egress,
        s.not_tcp_udp,
        s.unmapped,
        s.ambiguous
    );
    if !s.bad.is_empty() {
        eprintln!("egress-policy import: {} lines could not be read:", s.bad.len());
        for b in s.bad.iter().take(50) {
            eprintln!("  {b}");
        }
        if s.bad.len() > 50 {
            eprintln!("  ... and {} more", s.bad.len() - 50);
        }
    }
    Ok(status(true))
}
