//! The WASI preview1 context a guest gets, the same sandbox for waPC modules (TinyGo and
//! `wasm32-wasip1` guests import WASI) and WASI commands: no environment, no preopened
//! directories, no network, clocks and randomness, and stdout and stderr captured in memory,
//! never printed. As policy-evaluator builds it for WASI policies (`src/runtimes/wasi_cli/`
//! of <https://github.com/kubewarden/policy-evaluator>).

use bytes::Bytes;
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::cli::StdinStream;
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

/// How much guest stdout/stderr is kept; output beyond it fails the guest's write.
const CAPTURED_OUTPUT: usize = 1024 * 1024;

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
/// stdin.
pub(crate) fn library_context() -> (WasiP1Ctx, CapturedOutput) {
    sandboxed(WasiCtxBuilder::new())
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
