//! The stdin of a WASI policy: a shared byte queue the guest drains, and that `host.call`
//! appends its replies to, so that a guest which reads stdin to EOF after a host call gets
//! exactly the reply (`WasiPipe` in `src/runtimes/wasi_cli/wasi_pipe.rs` of
//! <https://github.com/kubewarden/policy-evaluator>).

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdinStream};
use wasmtime_wasi::p2::{InputStream, Pollable, StreamError, StreamResult};

/// A queue of bytes read as stdin: an empty queue reads as end of file, and later appends are
/// read by the next read.
#[derive(Debug, Clone, Default)]
pub(crate) struct SharedStdin(Arc<Mutex<VecDeque<u8>>>);

impl SharedStdin {
    /// A stdin that starts with `bytes`.
    pub(crate) fn new(bytes: &[u8]) -> Self {
        let stdin = SharedStdin::default();
        stdin.append(bytes);
        stdin
    }

    /// Queue `bytes` after whatever is still unread.
    pub(crate) fn append(&self, bytes: &[u8]) {
        self.queue().extend(bytes);
    }

    fn queue(&self) -> MutexGuard<'_, VecDeque<u8>> {
        // A panic while holding the lock leaves the queue consistent (it is only extended or
        // drained), so a poisoned lock is still usable.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn take(&self, max: usize) -> Vec<u8> {
        let mut queue = self.queue();
        let n = max.min(queue.len());
        queue.drain(..n).collect()
    }
}

impl IsTerminal for SharedStdin {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdinStream for SharedStdin {
    fn p2_stream(&self) -> Box<dyn InputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncRead + Send + Sync> {
        Box::new(self.clone())
    }
}

#[async_trait::async_trait]
impl Pollable for SharedStdin {
    // Always ready: a read either has bytes or reports end of file, never blocks.
    async fn ready(&mut self) {}
}

impl InputStream for SharedStdin {
    fn read(&mut self, size: usize) -> StreamResult<Bytes> {
        let bytes = self.take(size);
        if bytes.is_empty() && size > 0 {
            // `Closed` is end of file to WASI preview1's `fd_read`, which is not sticky here:
            // a host call can append more.
            return Err(StreamError::Closed);
        }
        Ok(Bytes::from(bytes))
    }
}

impl tokio::io::AsyncRead for SharedStdin {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let bytes = self.take(buf.remaining());
        buf.put_slice(&bytes);
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_drain_then_report_end_of_file_until_more_is_appended() {
        let mut stdin = SharedStdin::new(b"request");
        assert_eq!(&stdin.read(4).unwrap()[..], b"requ");
        assert_eq!(&stdin.read(100).unwrap()[..], b"est");
        assert!(matches!(stdin.read(100), Err(StreamError::Closed)));
        stdin.append(b"reply");
        assert_eq!(&stdin.read(100).unwrap()[..], b"reply");
    }
}
