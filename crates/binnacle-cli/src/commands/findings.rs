//! `binnacle findings`: what is broken in a cluster and why, from the deterministic analyzers
//! (`binnacle-findings`), as a table, JSON or YAML. Exits 0 whenever the analysis ran, findings or not.

use anyhow::{Context, bail};
use binnacle_findings::{Finding, FindingsError, Report, Scope, Severity};
use binnacle_tools::{ClusterSet, ToolError};
use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::PathBuf;

/// Least severity shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MinSeverity {
    /// Only critical findings.
    Critical,
    /// Critical and warning findings.
    Warning,
    /// Everything.
    Info,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// One line per finding: SEVERITY, ANALYZER, OBJECT, SUMMARY.
    Table,
    /// The report (findings with evidence, likely cause and next step; stats) as JSON.
    Json,
    /// The same report as YAML.
    Yaml,
}

/// Options of `binnacle findings`.
#[derive(Debug, Args)]
pub struct FindingsArgs {
    /// Kubeconfig to use (default: KUBECONFIG, then ~/.kube/config).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context (default: the kubeconfig's current context).
    #[arg(long)]
    pub context: Option<String>,
    /// Namespaces to check (repeat the flag or separate with commas; default: all). Cluster-scoped objects
    /// (nodes, webhooks) are always checked.
    #[arg(short = 'n', long = "namespace", value_delimiter = ',', value_name = "NS")]
    pub namespaces: Vec<String>,
    /// Least severity to show.
    #[arg(long, value_enum, default_value = "info")]
    pub min_severity: MinSeverity,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value = "table")]
    pub output: OutputFormat,
}

/// Runs the analyzers once and prints the findings.
pub async fn run(args: FindingsArgs) -> anyhow::Result<()> {
    for ns in &args.namespaces {
        binnacle_tools::validate::namespace(ns).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let clusters = ClusterSet::from_kubeconfig(args.kubeconfig.as_deref(), args.context.as_deref())
        .map_err(|e| anyhow::anyhow!("{}", e.to_string().trim_start_matches("invalid arguments: ")))?;
    let context = clusters.default_context().unwrap_or("(none)").to_string();
    let server = clusters.server_of(&context).unwrap_or_default();
    let client = clusters.client(None).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let scope = Scope::namespaces(args.namespaces.clone());
    let mut report = match binnacle_findings::find_issues(client, scope).await {
        Ok(r) => r,
        Err(FindingsError::List { kind, source }) => {
            let cause = ToolError::from(source);
            bail!("cannot analyze context {context:?} ({server}): listing {kind}: {cause}")
        }
        Err(other) => bail!("cannot analyze context {context:?} ({server}): {other}"),
    };
    let least = match args.min_severity {
        MinSeverity::Critical => Severity::Critical,
        MinSeverity::Warning => Severity::Warning,
        MinSeverity::Info => Severity::Info,
    };
    report.findings.retain(|f| f.severity <= least);
    let mut stdout = std::io::stdout().lock();
    match args.output {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut stdout, &report).context("writing JSON")?;
            writeln!(stdout)?;
        }
        OutputFormat::Yaml => {
            let text = serde_norway::to_string(&report).context("writing YAML")?;
            write!(stdout, "{text}")?;
        }
        OutputFormat::Table => {
            if !report.findings.is_empty() {
                write!(stdout, "{}", table(&report.findings))?;
            }
            eprintln!("{}", footer(&report));
        }
    }
    stdout.flush()?;
    Ok(())
}

/// `Deployment/payments/payments-api` (or `Node/sim-worker-1` for cluster-scoped objects).
fn object(f: &Finding) -> String {
    if f.namespace.is_empty() {
        format!("{}/{}", f.kind, f.name)
    } else {
        format!("{}/{}/{}", f.kind, f.namespace, f.name)
    }
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

/// The findings as aligned columns: SEVERITY, ANALYZER, OBJECT, SUMMARY.
fn table(findings: &[Finding]) -> String {
    let rows: Vec<[String; 4]> = findings
        .iter()
        .map(|f| [severity(f.severity).to_string(), f.analyzer.clone(), object(f), f.summary.replace('\n', " ")])
        .collect();
    let header = ["SEVERITY", "ANALYZER", "OBJECT", "SUMMARY"].map(str::to_string);
    let mut widths = [0usize; 3];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        for (cell, w) in row.iter().zip(widths) {
            out.push_str(&format!("{cell:<w$}   "));
        }
        out.push_str(&row[3]);
        out.push('\n');
    }
    out
}

/// `3 findings (1 critical, 2 warning) · 23 list calls · 41 ms`.
fn footer(report: &Report) -> String {
    let count = |s: Severity| report.findings.iter().filter(|f| f.severity == s).count();
    let mut text = if report.findings.is_empty() {
        "No issues found".to_string()
    } else {
        format!(
            "{} finding(s): {} critical, {} warning, {} info",
            report.findings.len(),
            count(Severity::Critical),
            count(Severity::Warning),
            count(Severity::Info)
        )
    };
    text.push_str(&format!(" · {} list calls · {} ms", report.stats.list_calls, report.stats.duration_ms));
    if !report.stats.skipped.is_empty() {
        text.push_str(&format!("\nnot read (their analyzers saw nothing): {}", report.stats.skipped.join("; ")));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use binnacle_findings::Evidence;

    #[test]
    fn table_aligns_columns() {
        let f = |sev, analyzer: &str, ns: &str, name: &str| Finding {
            severity: sev,
            kind: "Deployment".into(),
            namespace: ns.into(),
            name: name.into(),
            analyzer: analyzer.into(),
            summary: "something\nbroke".into(),
            evidence: Evidence::default(),
            likely_cause: String::new(),
            next_step: None,
        };
        let text =
            table(&[f(Severity::Critical, "crash-loop", "payments", "api"), f(Severity::Info, "node", "", "n1")]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "SEVERITY   ANALYZER     OBJECT                    SUMMARY");
        assert_eq!(lines[1], "critical   crash-loop   Deployment/payments/api   something broke");
        assert_eq!(lines[2], "info       node         Deployment/n1             something broke");
    }
}
