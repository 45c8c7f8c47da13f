//! The compiled index a policy's rules are looked up in: exact names and
//! wildcard suffixes in hash maps (one probe per label), CIDRs in one hash map
//! per prefix length (one probe per distinct length). Values are rule indices,
//! most specific first.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;

use crate::addr::{canonical_ip, canonical_net};
use crate::host::Host;
use crate::host::{HostPattern, is_matchable_name};
use crate::model::Rule;

/// The maps' hasher. Only policy names are ever inserted (an attacker-chosen
/// destination is only looked up), so hash flooding does not apply and a fast
/// non-keyed hash is safe.
pub(crate) type FastMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

/// Rules compiled for lookup. Values are indices into the rule list.
#[derive(Debug, Default, Clone)]
pub(crate) struct Index {
    pub(crate) exact: FastMap<Box<str>, Slots>,
    pub(crate) suffix: FastMap<Box<str>, Slots>,
    /// Bit `n` set: some wildcard suffix has `n` labels (≥ 127 share bit 127).
    /// Suffixes of other lengths are never probed.
    pub(crate) suffix_labels: u128,
    pub(crate) cidrs: PrefixTable,
}

/// The rules an index key leads to: almost always one, kept inline.
#[derive(Debug, Clone)]
pub(crate) enum Slots {
    One(u32),
    Many(Vec<u32>),
}

impl Slots {
    pub(crate) fn push(&mut self, rule: u32) {
        match self {
            Slots::One(r) if *r == rule => {}
            Slots::One(r) => *self = Slots::Many(vec![*r, rule]),
            Slots::Many(v) => {
                if !v.contains(&rule) {
                    v.push(rule);
                    v.sort_unstable();
                }
            }
        }
    }
    pub(crate) fn as_slice(&self) -> &[u32] {
        match self {
            Slots::One(r) => std::slice::from_ref(r),
            Slots::Many(v) => v,
        }
    }
}

/// Whether a host can match any rule at all: addresses always, names only
/// without empty or literal-`*` labels.
pub(crate) fn matchable(host: &Host) -> bool {
    match host {
        Host::Name(name) => is_matchable_name(name),
        Host::Ip(_) => true,
    }
}

fn label_bit(labels: usize) -> u128 {
    1u128 << labels.min(127)
}

impl Index {
    pub(crate) fn build(rules: &[Arc<Rule>]) -> Index {
        let mut index = Index::default();
        for (i, rule) in rules.iter().enumerate() {
            let i = i as u32;
            for h in &rule.hosts {
                let (map, key) = match h {
                    HostPattern::Exact(n) => (&mut index.exact, n),
                    HostPattern::Wildcard(s) => {
                        index.suffix_labels |= label_bit(s.split('.').count());
                        (&mut index.suffix, s)
                    }
                };
                map.entry(key.clone()).and_modify(|slots| slots.push(i)).or_insert(Slots::One(i));
            }
            for net in &rule.cidrs {
                index.cidrs.insert(*net, i);
            }
        }
        index
    }

    /// Calls `f` with candidate rules for `host`, most specific first: exact name,
    /// then wildcard suffixes from longest to shortest; for addresses, CIDRs from
    /// longest prefix. Stops when `f` returns `true`. Callers check names with
    /// [`matchable`] first (once per decision, not once per index).
    #[inline]
    pub(crate) fn for_each_candidate(&self, host: &Host, mut f: impl FnMut(u32) -> bool) {
        match host {
            Host::Name(name) => {
                if let Some(rules) = self.exact.get(&**name)
                    && rules.as_slice().iter().any(|&r| f(r))
                {
                    return;
                }
                if self.suffix.is_empty() {
                    return;
                }
                // The suffix after the first dot has as many labels as the name
                // has dots, one fewer after each next dot: probe only lengths
                // some wildcard has.
                let mut labels = name.bytes().filter(|&b| b == b'.').count();
                let dots = name.bytes().enumerate().filter(|&(_, b)| b == b'.').map(|(i, _)| i);
                for dot in dots {
                    let probe = self.suffix_labels & label_bit(labels) != 0;
                    labels -= 1;
                    if probe
                        && let Some(rules) = self.suffix.get(&name[dot + 1..])
                        && rules.as_slice().iter().any(|&r| f(r))
                    {
                        return;
                    }
                }
            }
            Host::Ip(ip) => {
                if !self.cidrs.is_empty() {
                    self.cidrs.for_each_match(*ip, f);
                }
            }
        }
    }
}

/// CIDRs compiled for lookup: one hash map per prefix length present, so a lookup
/// costs at most one probe per distinct prefix length (≤ 33 for IPv4, ≤ 129 for
/// IPv6), whatever the number of rules. Values are rule indices.
#[derive(Debug, Default, Clone)]
pub(crate) struct PrefixTable {
    v4: Vec<(u8, FastMap<u32, Slots>)>,
    v6: Vec<(u8, FastMap<u128, Slots>)>,
}

impl PrefixTable {
    pub(crate) fn insert(&mut self, net: IpNet, rule: u32) {
        match canonical_net(net) {
            IpNet::V4(n) => {
                let key = u32::from(n.network());
                push_level(&mut self.v4, n.prefix_len(), key, rule);
            }
            IpNet::V6(n) => {
                let key = u128::from(n.network());
                push_level(&mut self.v6, n.prefix_len(), key, rule);
            }
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    /// Calls `f` with each rule whose network contains `ip`, most specific first.
    /// Stops when `f` returns `true`.
    #[inline]
    pub(crate) fn for_each_match(&self, ip: IpAddr, f: impl FnMut(u32) -> bool) {
        match canonical_ip(ip) {
            IpAddr::V4(v4) => {
                let bits = u32::from(v4);
                probe_levels(&self.v4, |len| if len == 0 { 0 } else { bits & (u32::MAX << (32 - len)) }, f);
            }
            IpAddr::V6(v6) => {
                let bits = u128::from(v6);
                probe_levels(&self.v6, |len| if len == 0 { 0 } else { bits & (u128::MAX << (128 - len)) }, f);
            }
        }
    }
}

/// Probes each prefix length, longest first, with the address's network at
/// that length; stops at the first rule `f` accepts.
#[inline]
fn probe_levels<K: std::hash::Hash + Eq>(levels: &[(u8, FastMap<K, Slots>)], network: impl Fn(u8) -> K, mut f: impl FnMut(u32) -> bool) {
    for (len, map) in levels {
        if let Some(rules) = map.get(&network(*len))
            && rules.as_slice().iter().any(|&r| f(r))
        {
            return;
        }
    }
}

fn push_level<K: std::hash::Hash + Eq>(levels: &mut Vec<(u8, FastMap<K, Slots>)>, len: u8, key: K, rule: u32) {
    let pos = match levels.binary_search_by(|(l, _)| len.cmp(l)) {
        Ok(pos) => pos,
        Err(pos) => {
            levels.insert(pos, (len, FastMap::default()));
            pos
        }
    };
    levels[pos]
        .1
        .entry(key)
        .and_modify(|slots| slots.push(rule))
        .or_insert(Slots::One(rule));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn prefix_table_most_specific_first() {
        let mut t = PrefixTable::default();
        t.insert("10.0.0.0/8".parse().unwrap(), 0);
        t.insert("10.1.0.0/16".parse().unwrap(), 1);
        t.insert("::ffff:10.2.0.0/112".parse().unwrap(), 2);
        t.insert("2001:db8::/32".parse().unwrap(), 3);
        let collect = |s: &str| {
            let mut v = Vec::new();
            t.for_each_match(ip(s), |r| {
                v.push(r);
                false
            });
            v
        };
        assert_eq!(collect("10.1.2.3"), vec![1, 0]);
        assert_eq!(collect("::ffff:10.2.0.1"), vec![2, 0]);
        assert_eq!(collect("11.0.0.1"), Vec::<u32>::new());
        assert_eq!(collect("2001:db8::5"), vec![3]);
    }
}
