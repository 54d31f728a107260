//! `--token-auth-file`: upstream's CSV of static bearer tokens (token,user,uid,"group1,group2").

use super::User;
use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, Default)]
pub struct TokenFile {
    tokens: HashMap<String, User>,
}

impl TokenFile {
    /// Reads a token file; a malformed line is an error naming the line.
    pub fn load(path: Option<&Path>) -> anyhow::Result<TokenFile> {
        let mut tokens = HashMap::new();
        let Some(path) = path else {
            return Ok(TokenFile { tokens });
        };
        let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields = split_csv(line);
            if fields.len() < 3 || fields[0].is_empty() || fields[1].is_empty() {
                anyhow::bail!("{}:{}: expected token,user,uid[,\"groups\"]", path.display(), i + 1);
            }
            let mut groups: Vec<String> = fields
                .get(3)
                .map(|g| {
                    g.split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            groups.push("system:authenticated".into());
            let user = User {
                name: fields[1].clone(),
                uid: fields[2].clone(),
                groups,
                extra: Default::default(),
            };
            tokens.insert(fields[0].clone(), user);
        }
        Ok(TokenFile { tokens })
    }

    pub fn lookup(&self, token: &str) -> Option<User> {
        self.tokens.get(token).cloned()
    }
}

/// Splits one CSV line, honouring double quotes.
fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter().map(|s| s.trim().to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("tokens.csv");
        std::fs::write(&f, "t1,admin,1,\"system:masters,dev\"\nt2,bob,2\n").unwrap();
        let a = TokenFile::load(Some(&f)).unwrap();
        let u = a.lookup("t1").unwrap();
        assert_eq!(u.name, "admin");
        assert_eq!(u.groups, ["system:masters", "dev", "system:authenticated"]);
        assert!(a.lookup("nope").is_none());
        std::fs::write(&f, "onlytoken\n").unwrap();
        assert!(TokenFile::load(Some(&f)).is_err());
    }
}
