//! One image build through the engine's classic builder: the context is
//! streamed from a thread that writes the tar (bounded memory: a few chunks
//! in flight, whatever the context's size), the engine's output is shown as
//! it comes, and Ctrl-C stops the build (closing the connection makes the
//! engine cancel it and remove its containers).

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::thread::JoinHandle;

use anyhow::{Context, Result, anyhow};
use bollard::Docker;
use bollard::models::BuildInfo;
use bollard::query_parameters::{BuildImageOptions, BuilderVersion};
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::future::{self, Either};
use tokio::sync::mpsc;

use super::build_log::BuildLog;
use super::context::{self, ContextStats};
use super::engine::describe;
use super::progress::Progress;
use crate::build::ImageRequest;

/// Size of one chunk of the context in flight.
const CHUNK: usize = 256 * 1024;
/// Chunks queued between the tar writer and the connection.
const QUEUED_CHUNKS: usize = 4;

/// The build was stopped by Ctrl-C.
#[derive(Debug, thiserror::Error)]
#[error("interrupted: the image build was stopped; the previous build is kept as it was")]
pub struct Interrupted;

/// Builds the image; returns its ID. `engine` names the engine in messages
/// (its address and API version).
pub(super) fn run(
    runtime: &tokio::runtime::Runtime,
    docker: &Docker,
    engine: &str,
    request: &ImageRequest<'_>,
) -> Result<String> {
    let options = BuildImageOptions {
        dockerfile: request.layout.dockerfile_path().to_string(),
        t: Some(request.tag.to_string()),
        nocache: request.no_cache,
        rm: true,
        forcerm: true,
        buildargs: Some(to_hash_map(&request.build_args)),
        labels: Some(to_hash_map(&request.labels)),
        version: BuilderVersion::BuilderV1,
        ..Default::default()
    };
    let (producer, mut chunks) = stream_context(request)?;
    let body = bollard::body_stream(futures_util::stream::poll_fn(move |cx| {
        chunks.poll_recv(cx)
    }));

    let mut log = BuildLog::default();
    let mut progress = Progress::new(request.tag, engine);
    let streamed = runtime.block_on(follow(
        docker.build_image(options, None, Some(body)),
        &mut log,
        &mut progress,
    ));
    for line in log.finish() {
        progress.line(&line);
    }

    // A context that could not be written is the cause of whatever the
    // engine said about the truncated tar.
    if producer.is_finished() {
        match producer.join() {
            Ok(Err(e)) => {
                progress.failed(&log);
                return Err(e.context("cannot send the build context"));
            }
            Ok(Ok(_)) => {}
            Err(_) => return Err(anyhow!("the build context writer panicked")),
        }
    }
    match streamed {
        Err(Ended::Interrupted) => {
            progress.failed(&log);
            Err(Interrupted.into())
        }
        Err(Ended::Connection(e)) => {
            progress.failed(&log);
            Err(anyhow!(
                "the connection to the Docker engine ({engine}) failed during the build: {}\n\
                 \x20 hint: check that the engine is still running (`docker info`); the previous build is kept",
                describe(&e)
            ))
        }
        Ok(()) if log.error().is_some() => {
            progress.failed(&log);
            let dockerfile =
                std::fs::read_to_string(request.cnab_dir.join("Dockerfile")).unwrap_or_default();
            Err(anyhow!(
                "{}",
                // Named as the author finds it, in the bundle directory.
                log.explain_failure(request.mixin_lines, ".cnab/Dockerfile", &dockerfile)
            ))
        }
        Ok(()) => {
            progress.finished(&log);
            log.image_id().map(str::to_string).ok_or_else(|| {
                anyhow!("the Docker engine ({engine}) ended the build without an image ID")
            })
        }
    }
}

/// Shows the engine's output as it comes until the build ends, fails, or
/// Ctrl-C is pressed.
async fn follow(
    stream: impl futures_util::Stream<Item = Result<BuildInfo, bollard::errors::Error>>,
    log: &mut BuildLog,
    progress: &mut Progress,
) -> Result<(), Ended> {
    let mut stream = std::pin::pin!(stream);
    let mut ctrl_c = Box::pin(tokio::signal::ctrl_c());
    let mut watching_ctrl_c = true;
    loop {
        let next = stream.next();
        let item = if watching_ctrl_c {
            match future::select(next, &mut ctrl_c).await {
                Either::Left((item, _)) => item,
                Either::Right((Ok(()), _)) => return Err(Ended::Interrupted),
                // No signal handler: the build just cannot be interrupted.
                Either::Right((Err(_), _)) => {
                    watching_ctrl_c = false;
                    continue;
                }
            }
        } else {
            next.await
        };
        let info = match item {
            None => return Ok(()),
            // The build failed: bollard turns the engine's message into
            // an error; the stream ends after it.
            Some(Err(bollard::errors::Error::DockerStreamError { error })) => {
                log.set_error(error);
                continue;
            }
            // Refused before it started (a Dockerfile the builder cannot
            // parse, a bad option): the engine's answer explains it.
            Some(Err(bollard::errors::Error::DockerResponseServerError { message, .. })) => {
                log.set_error(message);
                return Ok(());
            }
            Some(Err(e)) => return Err(Ended::Connection(e)),
            Some(Ok(info)) => info,
        };
        if let Some(text) = &info.stream {
            for line in log.push_text(text) {
                progress.line(&line);
            }
        }
        if let Some(status) = &info.status {
            progress.status(status);
        }
        if let Some(id) = info.aux.and_then(|aux| aux.id) {
            log.set_image_id(id);
        }
    }
}

/// How the engine's output stream ended early.
enum Ended {
    Interrupted,
    Connection(bollard::errors::Error),
}

fn to_hash_map(map: &std::collections::BTreeMap<String, String>) -> HashMap<String, String> {
    map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

type Producer = JoinHandle<Result<ContextStats>>;

/// Starts the thread that writes the context as a tar into a bounded queue.
fn stream_context(request: &ImageRequest<'_>) -> Result<(Producer, mpsc::Receiver<Bytes>)> {
    let (sender, receiver) = mpsc::channel(QUEUED_CHUNKS);
    let dir: PathBuf = request.context_dir.to_path_buf();
    let cnab: PathBuf = request.cnab_dir.to_path_buf();
    let layout = request.layout.clone();
    let producer = std::thread::Builder::new()
        .name("build-context".into())
        .spawn(move || {
            let mut out = ChunkWriter {
                sender,
                buffer: Vec::with_capacity(CHUNK),
            };
            let stats = context::write_context(&dir, &cnab, &layout, &mut out)?;
            out.flush()?;
            Ok(stats)
        })
        .context("cannot start the build context writer")?;
    Ok((producer, receiver))
}

/// Writes into chunks of [`CHUNK`] bytes sent to the connection; blocks
/// while the queue is full, so memory stays bounded.
struct ChunkWriter {
    sender: mpsc::Sender<Bytes>,
    buffer: Vec<u8>,
}

impl ChunkWriter {
    fn send(&mut self) -> std::io::Result<()> {
        let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK));
        self.sender.blocking_send(Bytes::from(chunk)).map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "the engine stopped reading the build context",
            )
        })
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let room = CHUNK - self.buffer.len();
        let taken = data.len().min(room);
        self.buffer.extend_from_slice(&data[..taken]);
        if self.buffer.len() == CHUNK {
            self.send()?;
        }
        Ok(taken)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        self.send()
    }
}
