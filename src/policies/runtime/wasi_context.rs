//! The WASI preview1 context a guest gets, the same sandbox for waPC modules (TinyGo and
//! `wasm32-wasip1` guests import WASI) and WASI commands: no environment, no preopened
//! directories, no network, clocks and randomness, and stdout and stderr captured in memory,
//! never printed (of a called guest's stderr, the last few kilobytes, shown when it fails). As
//! policy-evaluator builds it for WASI policies (`src/runtimes/wasi_cli/` of
//! <https://github.com/kubewarden/policy-evaluator>).

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::cli::{IsTerminal, StdinStream, StdoutStream};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// How much guest stdout/stderr is kept; output beyond it fails the guest's write.
const CAPTURED_OUTPUT: usize = 1024 * 1024;

/// How much of a called guest's stderr is kept: the end of it, where a panic message is.
const STDERR_TAIL: usize = 4 * 1024;

/// What a guest wrote to stdout and stderr.
#[derive(Debug, Clone)]
pub(crate) struct CapturedOutput {
    stdout: MemoryOutputPipe,
    stderr: MemoryOutputPipe,
}

impl CapturedOutput {
    /// Everything written to stdout so far.
    pub(crate) fn stdout(&self) -> Bytes {
        self.stdout.contents()
    }

    /// Everything written to stderr so far.
    pub(crate) fn stderr(&self) -> Bytes {
        self.stderr.contents()
    }
}

/// The context of a guest that is called rather than run (waPC): no arguments, an empty
/// stdin, stdout captured and dropped (it answers through its imports), and the tail of its
/// stderr kept, to show what it said if it fails.
pub(crate) fn library_context() -> (WasiP1Ctx, OutputTail) {
    let stderr = OutputTail::new(STDERR_TAIL);
    let ctx = WasiCtxBuilder::new()
        .stdout(MemoryOutputPipe::new(CAPTURED_OUTPUT))
        .stderr(stderr.clone())
        .build_p1();
    (ctx, stderr)
}

/// The context of one run of a WASI command: `args` as its argv and `stdin`.
pub(crate) fn command_context(
    args: &[&str],
    stdin: impl StdinStream + 'static,
) -> (WasiP1Ctx, CapturedOutput) {
    let mut builder = WasiCtxBuilder::new();
    builder.args(args).stdin(stdin);
    sandboxed(builder)
}

/// `builder` with stdout and stderr captured, and nothing else of the machine added.
fn sandboxed(mut builder: WasiCtxBuilder) -> (WasiP1Ctx, CapturedOutput) {
    let output = CapturedOutput {
        stdout: MemoryOutputPipe::new(CAPTURED_OUTPUT),
        stderr: MemoryOutputPipe::new(CAPTURED_OUTPUT),
    };
    let ctx = builder
        .stdout(output.stdout.clone())
        .stderr(output.stderr.clone())
        .build_p1();
    (ctx, output)
}

/// The last bytes a guest wrote to a stream. Writes never fail and never grow it past its
/// bound: older bytes make room for newer ones, so a guest that writes all the time costs a
/// few kilobytes, and the end, where a panic message is, is always kept.
#[derive(Debug, Clone)]
pub(crate) struct OutputTail {
    kept: usize,
    bytes: Arc<Mutex<VecDeque<u8>>>,
}

impl OutputTail {
    /// A tail that keeps the last `kept` bytes.
    pub(crate) fn new(kept: usize) -> Self {
        OutputTail {
            kept,
            bytes: Arc::default(),
        }
    }

    /// The bytes kept.
    pub(crate) fn contents(&self) -> Vec<u8> {
        self.buffer().iter().copied().collect()
    }

    /// Forget what was written so far: a reused instance starts each call afresh.
    pub(crate) fn clear(&self) {
        self.buffer().clear();
    }

    fn push(&self, bytes: &[u8]) {
        let mut buffer = self.buffer();
        let bytes = &bytes[bytes.len().saturating_sub(self.kept)..];
        let overflow = (buffer.len() + bytes.len()).saturating_sub(self.kept);
        buffer.drain(..overflow);
        buffer.extend(bytes);
    }

    fn buffer(&self) -> MutexGuard<'_, VecDeque<u8>> {
        // Bytes are only appended and dropped whole, so a poisoned lock still holds a tail.
        self.bytes.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl IsTerminal for OutputTail {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for OutputTail {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[async_trait::async_trait]
impl Pollable for OutputTail {
    // Always ready: a write never waits.
    async fn ready(&mut self) {}
}

impl OutputStream for OutputTail {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.push(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        // Any amount: what does not fit pushes out what came before.
        Ok(usize::MAX)
    }
}

impl tokio::io::AsyncWrite for OutputTail {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.push(bytes);
        Poll::Ready(Ok(bytes.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tail_keeps_the_last_bytes_and_never_refuses_a_write() {
        let mut tail = OutputTail::new(8);
        tail.write(Bytes::from_static(b"hello ")).unwrap();
        tail.write(Bytes::from_static(b"world")).unwrap();
        assert_eq!(tail.contents(), b"lo world");
        tail.write(Bytes::from(vec![b'x'; 100])).unwrap();
        assert_eq!(tail.contents(), b"xxxxxxxx");
        tail.clear();
        assert!(tail.contents().is_empty());
    }
}
