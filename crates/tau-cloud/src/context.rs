//! The build context as a tar, byte for byte the same for the same files: entries sorted by path,
//! every mtime fixed, owner 0:0 with no names, modes reduced to 0644/0755. `.dockerignore` is
//! honoured here (the engine never sees an ignored file), and the generated Dockerfile is added
//! to the tar only, so building never writes into the user's directory.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::ignore::Rules;
use crate::{Error, Result};

/// Every entry's modification time (the Unix epoch): real mtimes would make two checkouts of
/// the same commit give different tars and so different image layers.
pub const FIXED_MTIME: u64 = 0;

/// A packed context, ready for the engine's build endpoint.
#[derive(Debug, Clone)]
pub struct Context {
    pub tar: Vec<u8>,
    /// `sha256:<hex>` of the tar, shown in dry runs and reports.
    pub digest: String,
    /// Context-relative paths of the files and links packed, in tar order.
    pub files: Vec<String>,
    /// The Dockerfile's path inside the tar.
    pub dockerfile: String,
}

/// Packs `dir`, adding `generated` (if any) as [`crate::dockerfile::GENERATED_NAME`].
/// `dockerfile` is the context-relative path of the user's own Dockerfile otherwise.
pub fn pack(dir: &Path, generated: Option<&str>, dockerfile: Option<&Path>) -> Result<Context> {
    let bad = |message: String| Error::Context {
        path: dir.to_path_buf(),
        message,
    };
    let rules = match fs::read_to_string(dir.join(".dockerignore")) {
        Ok(text) => Rules::parse(&text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Rules::default(),
        Err(e) => return Err(bad(format!("cannot read .dockerignore: {e}"))),
    };
    let mut entries = Vec::new();
    walk(dir, PathBuf::new(), &rules, &mut entries)?;
    let dockerfile_bytes = match (generated, dockerfile) {
        (Some(text), _) => text.as_bytes().to_vec(),
        (None, path) => {
            let name = path.map_or_else(|| "Dockerfile".to_string(), slash_path);
            match entries.iter().find(|(p, _)| *p == name) {
                Some((_, Entry::File { bytes, .. })) => bytes.clone(),
                _ => return Err(bad(format!("the Dockerfile {name} is not a file in the context (is it listed in .dockerignore?)"))),
            }
        }
    };
    let dockerfile_name = crate::dockerfile::GENERATED_NAME.to_string();
    entries.retain(|(p, _)| *p != dockerfile_name);
    entries.push((
        dockerfile_name.clone(),
        Entry::File {
            bytes: dockerfile_bytes,
            executable: false,
        },
    ));
    // Byte order, not locale order, so every machine sorts the same way.
    entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));

    let mut builder = tar::Builder::new(Vec::new());
    let mut files = Vec::new();
    for (path, entry) in &entries {
        let mut header = tar::Header::new_gnu();
        header.set_mtime(FIXED_MTIME);
        header.set_uid(0);
        header.set_gid(0);
        let appended = match entry {
            Entry::Dir => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                builder.append_data(&mut header, format!("{path}/"), std::io::empty())
            }
            Entry::File { bytes, executable } => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(if *executable { 0o755 } else { 0o644 });
                header.set_size(bytes.len() as u64);
                files.push(path.clone());
                builder.append_data(&mut header, path, bytes.as_slice())
            }
            Entry::Link(target) => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_mode(0o777);
                header.set_size(0);
                files.push(path.clone());
                builder.append_link(&mut header, path, target)
            }
        };
        appended.map_err(|e| bad(format!("cannot pack {path}: {e}")))?;
    }
    let tar = builder
        .into_inner()
        .map_err(|e| bad(format!("cannot finish the tar: {e}")))?;
    let digest = format!("sha256:{:x}", Sha256::digest(&tar));
    Ok(Context {
        tar,
        digest,
        files,
        dockerfile: dockerfile_name,
    })
}

enum Entry {
    Dir,
    File { bytes: Vec<u8>, executable: bool },
    Link(PathBuf),
}

fn walk(root: &Path, rel: PathBuf, rules: &Rules, out: &mut Vec<(String, Entry)>) -> Result<()> {
    let dir = root.join(&rel);
    let bad = |message: String| Error::Context {
        path: dir.clone(),
        message,
    };
    let listing = fs::read_dir(&dir).map_err(|e| bad(format!("cannot list: {e}")))?;
    for item in listing {
        let item = item.map_err(|e| bad(format!("cannot list: {e}")))?;
        let child = rel.join(item.file_name());
        let name = slash_path(&child);
        let meta = fs::symlink_metadata(item.path())
            .map_err(|e| bad(format!("cannot stat {name}: {e}")))?;
        let excluded = rules.excludes(&name);
        if meta.is_dir() {
            let before = out.len();
            walk(root, child, rules, out)?;
            // An excluded directory still carries the files a `!` rule brings back.
            if !excluded || out.len() > before {
                out.push((name, Entry::Dir));
            }
            continue;
        }
        if excluded {
            continue;
        }
        if meta.file_type().is_symlink() {
            let target = fs::read_link(item.path())
                .map_err(|e| bad(format!("cannot read link {name}: {e}")))?;
            out.push((name, Entry::Link(target)));
        } else if meta.is_file() {
            let mut bytes = Vec::with_capacity(meta.len() as usize);
            fs::File::open(item.path())
                .and_then(|mut f| f.read_to_end(&mut bytes))
                .map_err(|e| bad(format!("cannot read {name}: {e}")))?;
            out.push((
                name,
                Entry::File {
                    bytes,
                    executable: is_executable(&meta),
                },
            ));
        } else {
            return Err(bad(format!("{name} is neither a file, a directory nor a symlink (a socket or device cannot be part of an image build); add it to .dockerignore")));
        }
    }
    Ok(())
}

fn slash_path(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(unix)]
fn is_executable(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_: &fs::Metadata) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn names(tar: &[u8]) -> Vec<(String, u64, u64, u32)> {
        let mut archive = tar::Archive::new(tar);
        archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let h = e.header();
                (
                    e.path().unwrap().display().to_string(),
                    h.mtime().unwrap(),
                    h.uid().unwrap(),
                    h.mode().unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn the_tar_is_sorted_with_fixed_metadata_and_honours_dockerignore() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("src/b")).unwrap();
        fs::create_dir_all(dir.path().join("target")).unwrap();
        fs::write(dir.path().join("src/b/z.txt"), "z").unwrap();
        fs::write(dir.path().join("src/a.txt"), "a").unwrap();
        fs::write(dir.path().join("target/big"), "x").unwrap();
        fs::write(dir.path().join(".env"), "SECRET=1").unwrap();
        fs::write(dir.path().join(".dockerignore"), "target\n.env\n").unwrap();
        let ctx = pack(dir.path(), Some("FROM scratch\n"), None).unwrap();
        let entries = names(&ctx.tar);
        let paths: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(
            paths,
            [
                ".dockerignore",
                "Dockerfile",
                "src/",
                "src/a.txt",
                "src/b/",
                "src/b/z.txt"
            ]
        );
        assert!(entries.iter().all(|e| e.1 == FIXED_MTIME && e.2 == 0));
        assert!(
            !dir.path().join(GENERATED).exists(),
            "the context dir must not be written to"
        );
    }

    #[test]
    fn a_dockerfile_elsewhere_in_the_context_is_built_from_the_tar_root() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("deploy")).unwrap();
        fs::write(dir.path().join("deploy/prod.Dockerfile"), "FROM scratch\n").unwrap();
        fs::write(dir.path().join("Dockerfile"), "FROM other\n").unwrap();
        let ctx = pack(dir.path(), None, Some(Path::new("deploy/prod.Dockerfile"))).unwrap();
        let mut archive = tar::Archive::new(ctx.tar.as_slice());
        let mut root = String::new();
        for e in archive.entries().unwrap() {
            let mut e = e.unwrap();
            if e.path().unwrap().to_str() == Some("Dockerfile") {
                e.read_to_string(&mut root).unwrap();
            }
        }
        assert_eq!(root, "FROM scratch\n");
        assert_eq!(
            fs::read_to_string(dir.path().join("Dockerfile")).unwrap(),
            "FROM other\n"
        );
    }

    const GENERATED: &str = crate::dockerfile::GENERATED_NAME;

    #[test]
    fn a_users_dockerfile_must_be_in_the_context() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("app"), "x").unwrap();
        let err = pack(dir.path(), None, Some(Path::new("Dockerfile"))).unwrap_err();
        assert!(
            err.to_string()
                .contains("Dockerfile Dockerfile is not a file in the context"),
            "{err}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn same_files_give_the_same_bytes_whatever_their_mtimes_or_creation_order(
            files in proptest::collection::btree_map("[a-z]{1,4}(/[a-z]{1,4})?", proptest::collection::vec(any::<u8>(), 0..64), 1..8),
        ) {
            let one = tempfile::tempdir().unwrap();
            let two = tempfile::tempdir().unwrap();
            let write = |root: &Path, items: Vec<(&String, &Vec<u8>)>| {
                for (path, bytes) in items {
                    let p = root.join(path);
                    // A name may be both a file and a directory prefix; skip such clashes alike in both.
                    if fs::create_dir_all(p.parent().unwrap()).is_ok() && !p.is_dir() {
                        let _ = fs::write(&p, bytes);
                    }
                }
            };
            write(one.path(), files.iter().collect());
            std::thread::sleep(std::time::Duration::from_millis(5));
            write(two.path(), files.iter().collect());
            let a = pack(one.path(), Some("FROM scratch\n"), None).unwrap();
            let b = pack(two.path(), Some("FROM scratch\n"), None).unwrap();
            prop_assert_eq!(a.digest, b.digest);
        }
    }
}
