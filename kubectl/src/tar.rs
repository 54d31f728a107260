//! The tar archives `kubectl cp` sends through exec: ustar entries written from local files
//! (GNU long names for paths over 100 bytes) and read back from the container's `tar cf -`
//! (ustar, GNU `L` long names and pax `path` records).

use std::path::Path;

const BLOCK: usize = 512;

fn octal(field: &mut [u8], value: u64) {
    let width = field.len() - 1;
    let text = format!("{value:0width$o}");
    let bytes = text.as_bytes();
    let start = bytes.len().saturating_sub(width);
    field[..width].copy_from_slice(&bytes[start..]);
    field[width] = 0;
}

fn header(name: &[u8], mode: u32, size: u64, mtime: u64, kind: u8, link: &[u8]) -> [u8; BLOCK] {
    let mut h = [0u8; BLOCK];
    h[..name.len().min(100)].copy_from_slice(&name[..name.len().min(100)]);
    octal(&mut h[100..108], u64::from(mode & 0o7777));
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    octal(&mut h[124..136], size);
    octal(&mut h[136..148], mtime);
    h[156] = kind;
    h[157..157 + link.len().min(100)].copy_from_slice(&link[..link.len().min(100)]);
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
    let text = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(text.as_bytes());
    h
}

fn pad(out: &mut Vec<u8>) {
    let rem = out.len() % BLOCK;
    if rem != 0 {
        out.resize(out.len() + BLOCK - rem, 0);
    }
}

fn entry(out: &mut Vec<u8>, name: &str, mode: u32, mtime: u64, kind: u8, link: &str, data: &[u8]) {
    let name_bytes = name.as_bytes();
    if name_bytes.len() > 100 {
        // GNU long name: a `L` entry whose data is the name.
        let mut long = name_bytes.to_vec();
        long.push(0);
        out.extend_from_slice(&header(b"././@LongLink", 0, long.len() as u64, 0, b'L', b""));
        out.extend_from_slice(&long);
        pad(out);
    }
    out.extend_from_slice(&header(
        name_bytes,
        mode,
        data.len() as u64,
        mtime,
        kind,
        link.as_bytes(),
    ));
    out.extend_from_slice(data);
    pad(out);
}

/// An archive of `src` (a file, a directory tree or a symlink), its entries named from `name`.
pub fn archive(src: &Path, name: &str) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    add(&mut out, src, name)?;
    out.resize(out.len() + 2 * BLOCK, 0);
    Ok(out)
}

fn add(out: &mut Vec<u8>, path: &Path, name: &str) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::symlink_metadata(path)?;
    let mode = meta.permissions().mode();
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    if meta.file_type().is_symlink() {
        let target = std::fs::read_link(path)?;
        entry(out, name, mode, mtime, b'2', &target.to_string_lossy(), b"");
    } else if meta.is_dir() {
        let mut children: Vec<_> = std::fs::read_dir(path)?.collect::<Result<_, _>>()?;
        children.sort_by_key(|e| e.file_name());
        if children.is_empty() {
            entry(out, name, mode, mtime, b'5', "", b"");
        }
        for child in children {
            let child_name = format!("{name}/{}", child.file_name().to_string_lossy());
            add(out, &child.path(), &child_name)?;
        }
    } else {
        let data = std::fs::read(path)?;
        entry(out, name, mode, mtime, b'0', "", &data);
    }
    Ok(())
}

/// One entry read from an archive.
pub struct Entry {
    pub name: String,
    pub kind: u8,
    pub mode: u32,
    pub link: String,
    pub data: Vec<u8>,
}

fn field_str(b: &[u8]) -> String {
    let end = b.iter().position(|c| *c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

fn field_num(b: &[u8]) -> u64 {
    let text = field_str(b);
    u64::from_str_radix(text.trim(), 8).unwrap_or(0)
}

/// The entries of an archive; an error for a truncated or malformed one.
pub fn entries(data: &[u8]) -> Result<Vec<Entry>, String> {
    let mut out = Vec::new();
    let mut pos = 0;
    let mut long_name: Option<String> = None;
    while pos + BLOCK <= data.len() {
        let h = &data[pos..pos + BLOCK];
        if h.iter().all(|b| *b == 0) {
            break;
        }
        let size = field_num(&h[124..136]) as usize;
        let kind = h[156];
        let body_start = pos + BLOCK;
        let body_end = body_start + size;
        if body_end > data.len() {
            return Err("unexpected EOF".into());
        }
        let body = &data[body_start..body_end];
        pos = body_start + size.div_ceil(BLOCK) * BLOCK;
        match kind {
            b'L' => {
                long_name = Some(field_str(body));
                continue;
            }
            b'x' => {
                // pax records: "<len> key=value\n"
                for record in String::from_utf8_lossy(body).lines() {
                    if let Some((_, kv)) = record.split_once(' ')
                        && let Some(path) = kv.strip_prefix("path=")
                    {
                        long_name = Some(path.to_string());
                    }
                }
                continue;
            }
            b'g' => continue,
            _ => {}
        }
        let prefix = field_str(&h[345..500]);
        let base = field_str(&h[..100]);
        let name = long_name.take().unwrap_or_else(|| {
            if prefix.is_empty() {
                base
            } else {
                format!("{prefix}/{base}")
            }
        });
        out.push(Entry {
            name,
            kind,
            mode: field_num(&h[100..108]) as u32,
            link: field_str(&h[157..257]),
            data: body.to_vec(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        std::fs::create_dir_all(src.join("sub")).unwrap();
        std::fs::write(src.join("a.txt"), "alpha").unwrap();
        let long = "x".repeat(120);
        std::fs::write(src.join("sub").join(&long), "deep").unwrap();
        let data = archive(&src, "dest").unwrap();
        let got = entries(&data).unwrap();
        let names: Vec<&str> = got.iter().map(|e| e.name.as_str()).collect();
        let long_name = format!("dest/sub/{long}");
        assert_eq!(names, ["dest/a.txt", long_name.as_str()]);
        assert_eq!(got[0].data, b"alpha");
        assert_eq!(got[1].data, b"deep");
    }
}
