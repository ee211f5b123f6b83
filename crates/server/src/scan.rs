//! Malware scanning of a complete file: `clamd` over its socket (the INSTREAM command, unix
//! socket or TCP), or a command line run on the file's path (clamscan's exit codes).
//!
//! The file is streamed to clamd in chunks, never held whole; every scan has a time limit. The
//! outcome is a value: clean, infected (with the signature's name), or the scanner unavailable
//! (down, timed out, or answering with an error). What to do with each is the upload domain's
//! business; this module knows no HTTP and no database.

use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Where clamd listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClamdAddr {
    /// A unix socket (clamd's `LocalSocket`).
    Unix(PathBuf),
    /// `host:port` (clamd's `TCPSocket` and `TCPAddr`).
    Tcp(String),
}

impl std::str::FromStr for ClamdAddr {
    type Err = String;

    /// `unix:/run/clamav/clamd.ctl`, `/run/clamav/clamd.ctl`, `tcp:127.0.0.1:3310` or
    /// `127.0.0.1:3310`.
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if let Some(p) = s.strip_prefix("unix:") {
            return Ok(ClamdAddr::Unix(PathBuf::from(p)));
        }
        if s.starts_with('/') {
            return Ok(ClamdAddr::Unix(PathBuf::from(s)));
        }
        let hp = s.strip_prefix("tcp:").unwrap_or(s);
        match hp.rsplit_once(':') {
            Some((h, p)) if !h.is_empty() && p.parse::<u16>().is_ok() => Ok(ClamdAddr::Tcp(hp.to_owned())),
            _ => Err(format!("'{s}' is neither unix:/path/to/clamd.sock nor tcp:host:port")),
        }
    }
}

/// Which scanner runs on every complete file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scanner {
    /// clamd over its socket.
    Clamd(ClamdAddr),
    /// A program and its arguments; the file's path is appended. Exit 0 means clean, 1
    /// infected, anything else a failure of the scanner.
    Command(Vec<String>),
}

/// What a scan found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing found.
    Clean,
    /// A signature matched (its name, when the scanner says it).
    Infected(String),
    /// The scanner could not give a verdict: why, for the log.
    Unavailable(String),
}

/// Bytes sent to clamd per INSTREAM chunk.
const CHUNK: usize = 64 * 1024;
/// Longest reply read from clamd.
const MAX_REPLY: u64 = 4096;

/// Scans the file at `path`, within `timeout`.
pub async fn scan(scanner: &Scanner, path: &Path, timeout: Duration) -> Verdict {
    let run = async {
        match scanner {
            Scanner::Clamd(addr) => clamd(addr, path).await,
            Scanner::Command(cmd) => command(cmd, path).await,
        }
    };
    match tokio::time::timeout(timeout, run).await {
        Ok(v) => v,
        Err(_) => Verdict::Unavailable(format!("no verdict within {} s", timeout.as_secs())),
    }
}

async fn clamd(addr: &ClamdAddr, path: &Path) -> Verdict {
    let file = match tokio::fs::File::open(path).await {
        Ok(f) => f,
        Err(e) => return Verdict::Unavailable(format!("cannot read the file: {e}")),
    };
    let reply = match addr {
        ClamdAddr::Unix(p) => match tokio::net::UnixStream::connect(p).await {
            Ok(s) => instream(s, file).await,
            Err(e) => return Verdict::Unavailable(format!("clamd at {}: {e}", p.display())),
        },
        ClamdAddr::Tcp(hp) => match tokio::net::TcpStream::connect(hp.as_str()).await {
            Ok(s) => instream(s, file).await,
            Err(e) => return Verdict::Unavailable(format!("clamd at {hp}: {e}")),
        },
    };
    match reply {
        Ok(r) => parse_reply(&r),
        Err(e) => Verdict::Unavailable(format!("clamd: {e}")),
    }
}

/// Sends `zINSTREAM`, the file in length-prefixed chunks and the closing empty chunk, and
/// returns clamd's reply. If clamd stops reading early (its stream size limit), its reply is
/// still read.
async fn instream<S, R>(mut s: S, mut file: R) -> std::io::Result<String>
where
    S: AsyncRead + AsyncWrite + Unpin,
    R: AsyncRead + Unpin,
{
    let sent = async {
        s.write_all(b"zINSTREAM\0").await?;
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = file.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            let len = u32::try_from(n).map_err(std::io::Error::other)?;
            s.write_all(&len.to_be_bytes()).await?;
            s.write_all(&buf[..n]).await?;
        }
        s.write_all(&[0, 0, 0, 0]).await?;
        s.flush().await
    }
    .await;
    let mut reply = Vec::new();
    let read = (&mut s).take(MAX_REPLY).read_to_end(&mut reply).await;
    let text = String::from_utf8_lossy(&reply).trim_end_matches(['\0', '\n']).to_owned();
    match (sent, read) {
        (_, Ok(_)) if !text.is_empty() => Ok(text),
        (Err(e), _) | (Ok(()), Err(e)) => Err(e),
        (Ok(()), Ok(_)) => Err(std::io::Error::other("clamd closed the connection without a reply")),
    }
}

/// Reads clamd's answer to one stream: `stream: OK`, `stream: <name> FOUND`, or `… ERROR`.
fn parse_reply(reply: &str) -> Verdict {
    let body = reply.strip_prefix("stream:").map(str::trim).unwrap_or(reply.trim());
    if body == "OK" {
        Verdict::Clean
    } else if let Some(name) = body.strip_suffix(" FOUND") {
        Verdict::Infected(name.trim().to_owned())
    } else {
        Verdict::Unavailable(format!("clamd answered: {}", reply.chars().take(200).collect::<String>()))
    }
}

async fn command(cmd: &[String], path: &Path) -> Verdict {
    let Some((prog, args)) = cmd.split_first() else {
        return Verdict::Clean;
    };
    let out = tokio::process::Command::new(prog).args(args).arg(path).kill_on_drop(true).output().await;
    match out {
        Err(e) => Verdict::Unavailable(format!("the scanner did not start: {e}")),
        Ok(out) => match out.status.code() {
            Some(0) => Verdict::Clean,
            Some(1) => Verdict::Infected(String::new()),
            other => Verdict::Unavailable(format!("the scanner failed with {other:?}")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse() {
        assert_eq!("unix:/run/c.sock".parse(), Ok(ClamdAddr::Unix("/run/c.sock".into())));
        assert_eq!("/run/c.sock".parse(), Ok(ClamdAddr::Unix("/run/c.sock".into())));
        assert_eq!("tcp:127.0.0.1:3310".parse(), Ok(ClamdAddr::Tcp("127.0.0.1:3310".into())));
        assert_eq!("localhost:3310".parse(), Ok(ClamdAddr::Tcp("localhost:3310".into())));
        assert!("clamd".parse::<ClamdAddr>().is_err());
        assert!("tcp:host:notaport".parse::<ClamdAddr>().is_err());
    }

    #[test]
    fn replies_parse() {
        assert_eq!(parse_reply("stream: OK"), Verdict::Clean);
        assert_eq!(parse_reply("stream: Eicar-Test-Signature FOUND"), Verdict::Infected("Eicar-Test-Signature".into()));
        assert!(matches!(parse_reply("INSTREAM size limit exceeded. ERROR"), Verdict::Unavailable(_)));
        assert!(matches!(parse_reply(""), Verdict::Unavailable(_)));
    }

    /// A stand-in clamd on a unix socket: reads the INSTREAM chunks, answers FOUND when they
    /// contain `EVIL`, and records the largest chunk it was sent.
    async fn fake_clamd(dir: &Path, silent: bool) -> (PathBuf, tokio::task::JoinHandle<usize>) {
        let sock = dir.join("clamd.sock");
        let listener = tokio::net::UnixListener::bind(&sock).unwrap();
        let task = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut cmd = [0u8; 10];
            s.read_exact(&mut cmd).await.unwrap();
            assert_eq!(&cmd, b"zINSTREAM\0");
            let (mut all, mut largest) = (Vec::new(), 0);
            loop {
                let mut len = [0u8; 4];
                s.read_exact(&mut len).await.unwrap();
                let n = u32::from_be_bytes(len) as usize;
                if n == 0 {
                    break;
                }
                largest = largest.max(n);
                let mut chunk = vec![0u8; n];
                s.read_exact(&mut chunk).await.unwrap();
                all.extend_from_slice(&chunk);
            }
            if silent {
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
            let found = all.windows(4).any(|w| w == b"EVIL");
            let reply: &[u8] = if found { b"stream: Evil-Test FOUND\0" } else { b"stream: OK\0" };
            s.write_all(reply).await.unwrap();
            largest
        });
        (sock, task)
    }

    #[tokio::test]
    async fn clamd_gets_the_file_in_chunks_and_its_verdict_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        let mut body = vec![b'a'; 300 * 1024];
        body.extend_from_slice(b"EVIL");
        std::fs::write(&file, &body).unwrap();
        let (sock, task) = fake_clamd(dir.path(), false).await;
        let scanner = Scanner::Clamd(ClamdAddr::Unix(sock.clone()));
        assert_eq!(scan(&scanner, &file, Duration::from_secs(5)).await, Verdict::Infected("Evil-Test".into()));
        assert_eq!(task.await.unwrap(), CHUNK, "the file goes in chunks, not whole");
        std::fs::remove_file(&sock).unwrap();

        std::fs::write(&file, b"harmless").unwrap();
        let (sock, _task) = fake_clamd(dir.path(), false).await;
        assert_eq!(
            scan(&Scanner::Clamd(ClamdAddr::Unix(sock.clone())), &file, Duration::from_secs(5)).await,
            Verdict::Clean
        );
        std::fs::remove_file(&sock).unwrap();

        let (sock, _task) = fake_clamd(dir.path(), true).await;
        let v = scan(&Scanner::Clamd(ClamdAddr::Unix(sock.clone())), &file, Duration::from_millis(300)).await;
        assert!(matches!(v, Verdict::Unavailable(_)), "a silent clamd times out: {v:?}");
        std::fs::remove_file(&sock).unwrap();

        let v = scan(&Scanner::Clamd(ClamdAddr::Unix(sock)), &file, Duration::from_secs(5)).await;
        assert!(matches!(v, Verdict::Unavailable(_)), "nobody listening: {v:?}");
    }
}
