//! A fixture's bytes hashed beside its parse, not in its way.
//!
//! The SHA-256 of a fixture names the evidence a run records, so it must be of exactly the bytes
//! that were parsed. Hashed by the thread that reads the file, it held up the parse, which waited
//! for each block: 20 ms of the 80–100 ms a 100,000-case fixture took to load. Here each block the
//! reader reads is shared ([`Block`]) between the parse and a hashing thread of its own, and the
//! digest is asked for ([`FixtureDigest::get`]) only when the run is recorded: the hash runs
//! while the parse, the checks and the run leave a core to it. A block is freed (back to the
//! reader's [`Pool`]) when both are done with it; once [`MAX_BLOCKS`] are alive the reader waits
//! for the hash to catch up.
//!
//! The thread keeps its normal priority. At idle priority it gained about 1% on an idle machine,
//! and on a busy one it hardly ran at all, so that the parse, waiting for buffers the hash held,
//! took seconds.

use std::ops::Deref;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::evidence::{hex, FixtureDigest};

/// Blocks alive at once, read but not yet both parsed and hashed: a bound on the text held for
/// the hash (32 MB at the reader's 1 MB blocks), whatever the size of the fixture.
pub(super) const MAX_BLOCKS: usize = 32;

/// Bytes read from the fixture, shared by the parse and the hash.
pub(super) struct Block {
    bytes: Vec<u8>,
    /// Where the buffer goes once the last holder is done with it.
    home: Sender<Vec<u8>>,
}

impl Deref for Block {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        // A reader that has finished no longer takes buffers back; this one is then freed.
        let _ = self.home.send(std::mem::take(&mut self.bytes));
    }
}

/// The reader's buffers: refilled, not reallocated (a fresh buffer per block cost more in page
/// faults than the read itself).
pub(super) struct Pool {
    free: Receiver<Vec<u8>>,
    home: Sender<Vec<u8>>,
    made: usize,
    size: usize,
}

impl Pool {
    /// A pool of buffers of `size` bytes.
    pub(super) fn new(size: usize) -> Self {
        let (home, free) = mpsc::channel();
        Pool {
            free,
            home,
            made: 0,
            size,
        }
    }

    /// An empty buffer: one given back, a new one while fewer than [`MAX_BLOCKS`] exist, or else
    /// the next one given back.
    pub(super) fn take(&mut self) -> Vec<u8> {
        let reuse = |mut buf: Vec<u8>| {
            buf.clear();
            buf
        };
        if let Ok(buf) = self.free.try_recv() {
            return reuse(buf);
        }
        if self.made < MAX_BLOCKS {
            self.made += 1;
            return Vec::with_capacity(self.size);
        }
        // The pool keeps a sender, so this waits for a block to be dropped, never fails.
        self.free
            .recv()
            .map(reuse)
            .unwrap_or_else(|_| Vec::with_capacity(self.size))
    }

    /// Shares `bytes` as a block that comes back to this pool.
    pub(super) fn block(&self, bytes: Vec<u8>) -> Arc<Block> {
        Arc::new(Block {
            bytes,
            home: self.home.clone(),
        })
    }
}

/// Where the reader's blocks are hashed.
pub(super) enum Hasher {
    /// On a thread of its own.
    Thread(SyncSender<Arc<Block>>, std::thread::JoinHandle<[u8; 32]>),
    /// In the reader, where no thread can be started.
    Inline(Sha256),
}

impl Hasher {
    pub(super) fn start() -> Self {
        // Room for every block that can exist: the reader never waits on the hash to hand one
        // over, only for a buffer.
        let (blocks, inbox) = mpsc::sync_channel::<Arc<Block>>(MAX_BLOCKS);
        let spawned = std::thread::Builder::new()
            .name("fixture-sha256".into())
            .spawn(move || {
                let mut sha = Sha256::new();
                for block in inbox {
                    sha.update(&block[..]);
                }
                sha.finalize().into()
            });
        match spawned {
            Ok(thread) => Hasher::Thread(blocks, thread),
            Err(_) => Hasher::Inline(Sha256::new()),
        }
    }

    /// Adds the next block's bytes.
    pub(super) fn add(&mut self, block: &Arc<Block>) {
        match self {
            Hasher::Thread(blocks, _) => {
                // Refused only by a thread that is gone, which panicked: `get` resumes that panic.
                let _ = blocks.send(Arc::clone(block));
            }
            Hasher::Inline(sha) => sha.update(&block[..]),
        }
    }

    /// The digest of every byte added, computed by the time [`FixtureDigest::get`] returns.
    pub(super) fn finish(self) -> FixtureDigest {
        match self {
            // Closing the channel ends the thread's loop once it has hashed what is queued.
            Hasher::Thread(blocks, thread) => {
                drop(blocks);
                FixtureDigest::pending(thread)
            }
            Hasher::Inline(sha) => FixtureDigest::ready(hex(sha.finalize().into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_go_back_to_the_pool_and_no_more_than_the_bound_are_made() {
        let mut pool = Pool::new(8);
        let blocks: Vec<_> = (0..MAX_BLOCKS)
            .map(|_| {
                let bytes = pool.take();
                pool.block(bytes)
            })
            .collect();
        assert_eq!(pool.made, MAX_BLOCKS);
        drop(blocks);
        let mut again = pool.take();
        assert_eq!(pool.made, MAX_BLOCKS, "a returned buffer is reused");
        assert!(again.is_empty());
        again.extend_from_slice(b"x");
    }

    #[test]
    fn the_digest_is_of_every_block_in_order_on_the_thread_and_inline() {
        let pool = Pool::new(4);
        let parts: [&[u8]; 3] = [b"ab", b"", b"cdef"];
        for mut hasher in [Hasher::start(), Hasher::Inline(Sha256::new())] {
            for part in parts {
                hasher.add(&pool.block(part.to_vec()));
            }
            assert_eq!(
                hasher.finish().get(),
                crate::evidence::fixture_digest(b"abcdef")
            );
        }
    }
}
