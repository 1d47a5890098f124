//! A question as lower-case words, with the parts other steps have already used marked, and the
//! extractors that pull namespaces, names and numbers out of it.

use super::intent::WorkloadKind;
use super::lexicon;

/// How the question scopes namespaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NamespaceSpec {
    /// One namespace.
    Named(String),
    /// Explicitly every namespace ("in all namespaces", `-A`).
    All,
}

/// A name found in the question, with the kind and namespace written next to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NameRef {
    /// The object's name.
    pub name: String,
    /// The kind written before it (`pod x`, `deploy/x`).
    pub kind: Option<WorkloadKind>,
    /// The namespace written with it (`ns/x`).
    pub namespace: Option<String>,
}

/// The words of a question.
#[derive(Debug, Clone)]
pub(crate) struct Words {
    words: Vec<String>,
    used: Vec<bool>,
}

/// Characters that separate words besides whitespace.
fn separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(c, ',' | ';' | '?' | '!' | '"' | '`' | '(' | ')' | '[' | ']' | '{' | '}' | '<' | '>' | '*' | '|')
}

/// Whether `s` is a DNS-1123 label (namespaces): at most 63 lower-case letters, digits and `-`, starting
/// and ending with a letter or digit.
pub(crate) fn is_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Whether `s` can be an object name (a DNS-1123 subdomain) and is not just a number.
pub(crate) fn is_name(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_label) && s.chars().any(|c| c.is_ascii_lowercase())
}

impl Words {
    /// Splits a question into lower-case words (apostrophes dropped, so `what's` is `whats`; trailing
    /// full stops and colons cut).
    pub(crate) fn new(question: &str) -> Self {
        let lower = question.to_lowercase().replace(['\'', '’'], "");
        let words: Vec<String> = lower
            .split(separator)
            .map(|w| w.trim_end_matches(['.', ':']).trim_start_matches(':'))
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect();
        let used = vec![false; words.len()];
        Self { words, used }
    }

    /// Whether the question has no words.
    pub(crate) fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The word at `i`, if it exists and is not used.
    fn free(&self, i: usize) -> Option<&str> {
        match (self.words.get(i), self.used.get(i)) {
            (Some(w), Some(false)) => Some(w.as_str()),
            _ => None,
        }
    }

    /// Marks words as used.
    fn mark(&mut self, indexes: &[usize]) {
        for &i in indexes {
            if let Some(u) = self.used.get_mut(i) {
                *u = true;
            }
        }
    }

    /// The unused words with their positions.
    pub(crate) fn unused(&self) -> impl Iterator<Item = (usize, &str)> {
        self.words.iter().enumerate().filter(|(i, _)| !self.used[*i]).map(|(i, w)| (i, w.as_str()))
    }

    /// Whether any unused word is in `set`.
    pub(crate) fn has_any(&self, set: &[&str]) -> bool {
        self.unused().any(|(_, w)| set.contains(&w))
    }

    /// The first unused word that is not filler (politeness, "can you", ...).
    pub(crate) fn first_meaningful(&self) -> Option<(usize, &str)> {
        const POLITE: &[&str] = &[
            "please", "pls", "plz", "kindly", "can", "could", "would", "will", "you", "go", "ahead", "and", "lets",
            "let", "us", "i", "we", "want", "need", "to", "now", "hey", "hi", "ok", "okay", "then", "just", "also",
        ];
        self.unused().find(|(_, w)| !POLITE.contains(w))
    }

    /// The unused word right after position `i`.
    pub(crate) fn next_free(&self, i: usize) -> Option<(usize, &str)> {
        self.free(i + 1).map(|w| (i + 1, w))
    }

    /// Uses the word at `i`.
    pub(crate) fn take(&mut self, i: usize) {
        self.mark(&[i]);
    }

    /// Takes the namespace scope out of the question: `-n x`, `--namespace x`, `--namespace=x`,
    /// `namespace x`, `ns x`, `the x namespace`, `in x`, and `all namespaces` / `-A`.
    pub(crate) fn take_namespace(&mut self) -> Option<NamespaceSpec> {
        let n = self.words.len();
        // Flags and key=value forms first: they are unambiguous.
        for i in 0..n {
            let Some(w) = self.free(i) else { continue };
            for prefix in ["--namespace=", "-n=", "namespace="] {
                if let Some(ns) = w.strip_prefix(prefix)
                    && is_label(ns)
                {
                    let ns = ns.to_string();
                    self.mark(&[i]);
                    return Some(NamespaceSpec::Named(ns));
                }
            }
            if matches!(w, "-n" | "--namespace")
                && let Some(ns) = self.free(i + 1).filter(|ns| is_label(ns))
            {
                let ns = ns.to_string();
                self.mark(&[i, i + 1]);
                return Some(NamespaceSpec::Named(ns));
            }
            if matches!(w, "-a" | "--all-namespaces" | "all-namespaces") {
                self.mark(&[i]);
                return Some(NamespaceSpec::All);
            }
        }
        for i in 0..n {
            let Some(w) = self.free(i) else { continue };
            // "all namespaces", "every namespace", "across namespaces".
            if matches!(w, "namespaces" | "namespace")
                && i > 0
                && matches!(self.free(i - 1), Some("all" | "every" | "across" | "each" | "any"))
            {
                let mut idx = vec![i - 1, i];
                if i > 1 && matches!(self.free(i - 2), Some("in" | "across" | "from")) {
                    idx.push(i - 2);
                }
                self.mark(&idx);
                return Some(NamespaceSpec::All);
            }
            // "namespace x", "ns x".
            if matches!(w, "namespace" | "ns")
                && let Some(ns) = self.free(i + 1).filter(|ns| is_label(ns) && !lexicon::is_not_namespace(ns))
            {
                let ns = ns.to_string();
                let mut idx = vec![i, i + 1];
                idx.extend(self.preposition_before(i));
                self.mark(&idx);
                return Some(NamespaceSpec::Named(ns));
            }
            // "the x namespace".
            if w == "namespace"
                && i > 0
                && let Some(ns) = self.free(i - 1).filter(|ns| is_label(ns) && !lexicon::is_not_namespace(ns))
            {
                let ns = ns.to_string();
                let mut idx = vec![i - 1, i];
                idx.extend(self.preposition_before(i - 1));
                self.mark(&idx);
                return Some(NamespaceSpec::Named(ns));
            }
        }
        // "in x".
        for i in 0..n {
            if self.free(i) == Some("in")
                && let Some(ns) = self
                    .free(i + 1)
                    .filter(|ns| is_label(ns) && !lexicon::is_not_namespace(ns) && !lexicon::is_vocabulary(ns))
            {
                let ns = ns.to_string();
                self.mark(&[i, i + 1]);
                return Some(NamespaceSpec::Named(ns));
            }
        }
        None
    }

    /// `in`, `in the` or `the` right before position `i` (to use them along with a namespace).
    fn preposition_before(&self, i: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut j = i;
        while j > 0 && out.len() < 2 {
            match self.free(j - 1) {
                Some("the") if out.is_empty() => out.push(j - 1),
                Some("in" | "from" | "of") => {
                    out.push(j - 1);
                    break;
                }
                _ => break,
            }
            j -= 1;
        }
        out
    }

    /// Takes the object the question is about: `kind/name`, `namespace/name`, `pod x`, `the x pod`, or
    /// the first word that is not vocabulary and can be a name. `skip` words are never names.
    pub(crate) fn take_name(&mut self, skip: &[&str]) -> Option<NameRef> {
        let n = self.words.len();
        // "kind/name" and "namespace/name".
        for i in 0..n {
            let Some(w) = self.free(i) else { continue };
            if let Some((left, right)) = w.split_once('/')
                && is_name(right)
            {
                let found = match lexicon::workload_kind(left) {
                    Some(kind) => NameRef { name: right.to_string(), kind: Some(kind), namespace: None },
                    None if is_label(left) => {
                        NameRef { name: right.to_string(), kind: None, namespace: Some(left.to_string()) }
                    }
                    None => continue,
                };
                self.mark(&[i]);
                return Some(found);
            }
        }
        let candidate = |w: &str| is_name(w) && !w.starts_with('-') && !lexicon::is_vocabulary(w) && !skip.contains(&w);
        // "pod x" (a kind word, then the name) and "the x pod".
        for i in 0..n {
            let Some(kind) = self.free(i).and_then(lexicon::workload_kind) else { continue };
            if let Some(name) =
                self.free(i + 1).filter(|w| is_name(w) && !lexicon::is_vocabulary(w) && !skip.contains(w))
            {
                let name = name.to_string();
                self.mark(&[i, i + 1]);
                return Some(NameRef { name, kind: Some(kind), namespace: None });
            }
            if i > 0
                && let Some(name) = self.free(i - 1).filter(|w| candidate(w))
            {
                let name = name.to_string();
                self.mark(&[i - 1, i]);
                return Some(NameRef { name, kind: Some(kind), namespace: None });
            }
        }
        // Any name-like word.
        let found = self.unused().find(|(_, w)| candidate(w)).map(|(i, w)| (i, w.to_string()));
        let (i, name) = found?;
        self.mark(&[i]);
        // A kind word anywhere else still says what the name is ("scale to 3 the deployment x").
        let kind = self.unused().find_map(|(_, w)| lexicon::workload_kind(w));
        Some(NameRef { name, kind, namespace: None })
    }

    /// Takes a number that follows one of `before` (`to 3`, `--replicas 3`), is written `key=N` for one
    /// of `keys`, or precedes one of `after` (`3 replicas`).
    pub(crate) fn take_number(&mut self, before: &[&str], keys: &[&str], after: &[&str]) -> Option<i64> {
        let n = self.words.len();
        for i in 0..n {
            let Some(w) = self.free(i) else { continue };
            for key in keys {
                if let Some(v) = w.strip_prefix(key).and_then(|r| r.strip_prefix('=')).and_then(|v| v.parse().ok()) {
                    self.mark(&[i]);
                    return Some(v);
                }
            }
        }
        for i in 0..n {
            let Some(w) = self.free(i) else { continue };
            let Ok(v) = w.parse::<i64>() else { continue };
            let prev = if i > 0 { self.free(i - 1) } else { None };
            let next = self.free(i + 1);
            if prev.is_some_and(|p| before.contains(&p)) {
                self.mark(&[i - 1, i]);
                return Some(v);
            }
            if next.is_some_and(|p| after.contains(&p)) {
                self.mark(&[i, i + 1]);
                return Some(v);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_in_many_forms() {
        let ns = |q: &str| Words::new(q).take_namespace();
        let named = |s: &str| Some(NamespaceSpec::Named(s.to_string()));
        assert_eq!(ns("what is broken in namespace payments?"), named("payments"));
        assert_eq!(ns("what is broken in payments"), named("payments"));
        assert_eq!(ns("pods -n web"), named("web"));
        assert_eq!(ns("pods --namespace=web"), named("web"));
        assert_eq!(ns("anything wrong in the data namespace"), named("data"));
        assert_eq!(ns("why is pod x stuck in pending"), None);
        assert_eq!(ns("what is broken in the cluster"), None);
        assert_eq!(ns("list pods in all namespaces"), Some(NamespaceSpec::All));
        assert_eq!(ns("list pods -A"), Some(NamespaceSpec::All));
    }

    #[test]
    fn names_in_many_forms() {
        let name = |q: &str| Words::new(q).take_name(&[]).map(|n| (n.name, n.kind, n.namespace));
        assert_eq!(name("why is pod ledger-abc failing"), Some(("ledger-abc".into(), Some(WorkloadKind::Pod), None)));
        assert_eq!(name("what's wrong with ledger"), Some(("ledger".into(), None, None)));
        assert_eq!(name("why is the ledger pod crashing"), Some(("ledger".into(), Some(WorkloadKind::Pod), None)));
        assert_eq!(name("logs of deploy/cart"), Some(("cart".into(), Some(WorkloadKind::Deployment), None)));
        assert_eq!(name("logs of shop/cart"), Some(("cart".into(), None, Some("shop".into()))));
        assert_eq!(name("what is broken"), None);
    }

    #[test]
    fn numbers() {
        let num = |q: &str| Words::new(q).take_number(&["to"], &["--replicas", "replicas"], &["replicas"]);
        assert_eq!(num("scale x to 3"), Some(3));
        assert_eq!(num("scale x to 3 replicas"), Some(3));
        assert_eq!(num("scale x --replicas=5"), Some(5));
        assert_eq!(num("scale x 4 replicas"), Some(4));
        assert_eq!(num("scale x"), None);
    }
}
