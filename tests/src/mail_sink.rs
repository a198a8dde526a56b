//! A small SMTP server for the notifier's tests, on a loopback port of its own: it speaks just
//! enough SMTP (RFC 5321: greeting, EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT, no
//! extensions) to take a mail and keep it in memory.
//!
//! [`MailSink::hold_next`] makes it stop before answering the next mail's end of data: the mail
//! is neither accepted nor kept, as a real server keeps nothing it has not answered 250 to. A test
//! kills the sender while it waits ([`MailSink::wait_held`]).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// A running sink; stops listening when dropped.
pub struct MailSink {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Default)]
struct Shared {
    mails: Mutex<Vec<String>>,
    hold_next: AtomicBool,
    held: Notify,
    was_held: AtomicBool,
}

impl MailSink {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding the mail sink");
        let addr = listener.local_addr().expect("the sink's address");
        let shared = Arc::new(Shared::default());
        let serving = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, serving.clone()));
            }
        });
        Self { addr, shared, task }
    }

    /// `smtp://127.0.0.1:<port>`, for `TV_SMTP_URL`.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// The next mail is held before its 250, until its sender goes away.
    pub fn hold_next(&self) {
        self.shared.hold_next.store(true, Ordering::SeqCst);
    }

    /// Waits until a mail is held (its data all read, no answer sent); false after `limit`.
    pub async fn wait_held(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while !self.shared.was_held.load(Ordering::SeqCst) {
            if Instant::now() >= deadline {
                return false;
            }
            let _ =
                tokio::time::timeout(Duration::from_millis(50), self.shared.held.notified()).await;
        }
        true
    }

    /// Every mail accepted so far, raw (headers and body).
    pub fn mails(&self) -> Vec<String> {
        self.shared.mails.lock().unwrap().clone()
    }

    /// The Message-ID header of every mail accepted so far.
    pub fn message_ids(&self) -> Vec<String> {
        self.mails()
            .iter()
            .filter_map(|mail| header(mail, "Message-ID"))
            .collect()
    }
}

impl Drop for MailSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The value of header `name` in a raw mail.
pub fn header(mail: &str, name: &str) -> Option<String> {
    mail.lines()
        .take_while(|line| !line.is_empty())
        .find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
}

/// One client's session.
async fn session(stream: TcpStream, shared: Arc<Shared>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    if write
        .write_all(b"220 tv-test-sink ESMTP\r\n")
        .await
        .is_err()
    {
        return;
    }
    while let Ok(Some(line)) = lines.next_line().await {
        let verb = line
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let answer: &[u8] = match verb.as_str() {
            "EHLO" | "HELO" => b"250 tv-test-sink\r\n",
            "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 OK\r\n",
            "QUIT" => {
                let _ = write.write_all(b"221 bye\r\n").await;
                return;
            }
            "DATA" => {
                if write.write_all(b"354 end with .\r\n").await.is_err() {
                    return;
                }
                let mut mail = String::new();
                loop {
                    match lines.next_line().await {
                        Ok(Some(line)) if line == "." => break,
                        Ok(Some(line)) => {
                            mail.push_str(line.strip_prefix('.').unwrap_or(&line));
                            mail.push('\n');
                        }
                        _ => return,
                    }
                }
                if shared.hold_next.swap(false, Ordering::SeqCst) {
                    shared.was_held.store(true, Ordering::SeqCst);
                    shared.held.notify_waiters();
                    // Nothing answered, nothing kept: wait for the sender to go away.
                    while let Ok(Some(_)) = lines.next_line().await {}
                    return;
                }
                shared.mails.lock().unwrap().push(mail);
                b"250 OK queued\r\n"
            }
            _ => b"502 not implemented\r\n",
        };
        if write.write_all(answer).await.is_err() {
            return;
        }
    }
}
