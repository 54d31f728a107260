//! Authentication for this stage of the server: bearer tokens from `--token-auth-file`
//! (upstream's CSV: token,user,uid,"group1,group2"); requests without credentials are
//! anonymous. Authorization is `AlwaysAllow`.

use crate::errors::{ApiError, ApiResult};
use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub uid: String,
    pub groups: Vec<String>,
}

impl User {
    pub fn anonymous() -> User {
        User {
            name: "system:anonymous".into(),
            uid: String::new(),
            groups: vec!["system:unauthenticated".into()],
        }
    }
}

#[derive(Debug, Default)]
pub struct Authenticator {
    tokens: HashMap<String, User>,
}

impl Authenticator {
    /// Reads a token file; a malformed line is an error naming the line.
    pub fn from_token_file(path: Option<&Path>) -> anyhow::Result<Authenticator> {
        let mut tokens = HashMap::new();
        if let Some(path) = path {
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
                tokens.insert(
                    fields[0].clone(),
                    User {
                        name: fields[1].clone(),
                        uid: fields[2].clone(),
                        groups,
                    },
                );
            }
        }
        Ok(Authenticator { tokens })
    }

    /// The user behind an `Authorization` header value; absent means anonymous.
    pub fn authenticate(&self, authorization: Option<&str>) -> ApiResult<User> {
        let Some(h) = authorization else {
            return Ok(User::anonymous());
        };
        let token = h
            .strip_prefix("Bearer ")
            .map(str::trim)
            .ok_or_else(ApiError::unauthorized)?;
        self.tokens.get(token).cloned().ok_or_else(ApiError::unauthorized)
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
        let a = Authenticator::from_token_file(Some(&f)).unwrap();
        let u = a.authenticate(Some("Bearer t1")).unwrap();
        assert_eq!(u.name, "admin");
        assert_eq!(u.groups, ["system:masters", "dev", "system:authenticated"]);
        assert_eq!(a.authenticate(Some("Bearer nope")).unwrap_err().code, 401);
        assert_eq!(a.authenticate(None).unwrap().name, "system:anonymous");
        std::fs::write(&f, "onlytoken\n").unwrap();
        assert!(Authenticator::from_token_file(Some(&f)).is_err());
    }
}
