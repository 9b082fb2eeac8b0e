//! Which replica should own which connection: an even split that moves few connections when a
//! replica joins or leaves.
//!
//! Every replica computes the same answer from the same member list, without talking to the
//! others: connections in name order each go to the member that ranks them highest (a hash of
//! the pair), among those not yet full. "Full" is ⌊C/N⌋ in a first pass and ⌈C/N⌉ for the
//! remainder, so every member ends with ⌊C/N⌋ or ⌈C/N⌉. The leases, not this function, keep
//! two replicas from owning one connection while their views differ.

use std::collections::BTreeMap;

/// FNV-1a over both names: stable across processes, versions and platforms.
fn score(connection: &str, member: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in connection.bytes().chain([0xff]).chain(member.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // A final mix, so that names differing in the last byte spread over the whole range.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

/// The owner of each connection; empty when there are no members.
#[must_use]
pub fn assign(connections: &[String], members: &[String]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if members.is_empty() {
        return out;
    }
    let mut members: Vec<&String> = members.iter().collect();
    members.sort();
    members.dedup();
    let mut connections: Vec<&String> = connections.iter().collect();
    connections.sort();
    connections.dedup();
    let floor = connections.len() / members.len();
    let mut load: BTreeMap<&str, usize> = members.iter().map(|m| (m.as_str(), 0)).collect();
    let mut left = Vec::new();
    for pass in 0..2 {
        let cap = floor + pass;
        let todo = if pass == 0 {
            connections.clone()
        } else {
            std::mem::take(&mut left)
        };
        for c in todo {
            let mut ranked: Vec<&&String> = members.iter().collect();
            ranked.sort_by_key(|m| (std::cmp::Reverse(score(c, m)), m.as_str()));
            let chosen = ranked
                .into_iter()
                .find(|m| load.get(m.as_str()).copied().unwrap_or(0) < cap);
            match chosen {
                Some(m) => {
                    *load.entry(m.as_str()).or_default() += 1;
                    out.insert(c.clone(), (*m).clone());
                }
                None => left.push(c),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(prefix: &str, n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{prefix}{i}")).collect()
    }

    #[test]
    fn every_connection_once_and_evenly() {
        for c in [0, 1, 5, 20, 41] {
            for m in 1..7 {
                let conns = names("org-", c);
                let members = names("replica-", m);
                let a = assign(&conns, &members);
                assert_eq!(a.len(), c);
                let mut load: BTreeMap<&str, usize> = BTreeMap::new();
                for owner in a.values() {
                    *load.entry(owner.as_str()).or_default() += 1;
                }
                let min = if load.len() < m {
                    0
                } else {
                    *load.values().min().unwrap_or(&0)
                };
                let max = *load.values().max().unwrap_or(&0);
                assert!(max - min <= 1, "{c} connections on {m} members: {load:?}");
            }
        }
    }

    #[test]
    fn the_same_view_gives_the_same_answer_and_joins_move_little() {
        let conns = names("org-", 20);
        let three = names("replica-", 3);
        let mut shuffled = three.clone();
        shuffled.reverse();
        assert_eq!(assign(&conns, &three), assign(&conns, &shuffled));
        let four = names("replica-", 4);
        let before = assign(&conns, &three);
        let after = assign(&conns, &four);
        let moved = conns.iter().filter(|c| before[*c] != after[*c]).count();
        // The newcomer takes its share (5); a few more move to even the rest out.
        assert!(moved <= 10, "{moved} moved");
    }
}
