//! SHA-256 of many short messages, sixteen at a time where the CPU allows.
//!
//! Every PCF and MLFS row carries a `data_hash`: SHA-256 of some 500 bytes of text, eight or
//! more 64-byte blocks. The CPU's SHA instructions compress a block in ~40 ns on this project's
//! Xeon however many messages are interleaved (their throughput is the limit, not their latency:
//! measured with 1, 2, 4 and 8 messages in flight). AVX-512 instead runs one block of sixteen
//! messages through its sixteen 32-bit lanes in one pass, ~23 ns a block each (measured, the
//! same machine). So a batch of rows is hashed together ([`finish_many`]), and a row alone, or a
//! CPU without AVX-512, takes the SHA instructions through `sha2::compress256`.
//!
//! The digest state is kept here rather than in `sha2::Sha256`, whose state cannot be handed to
//! another implementation: a [`Midstate`] is the state after whole blocks, and a message's rest
//! is plain bytes until the batch is finished.

use sha2::digest::generic_array::GenericArray;

/// SHA-256's state after a whole number of 64-byte blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Midstate {
    words: [u32; 8],
    /// Bytes compressed into `words`: a multiple of 64.
    compressed: u64,
}

pub(super) const BLOCK: usize = 64;

impl Midstate {
    /// The state before any byte (FIPS 180-4 §5.3.3).
    pub(crate) const INITIAL: Midstate = Midstate {
        words: [
            0x6a09_e667,
            0xbb67_ae85,
            0x3c6e_f372,
            0xa54f_f53a,
            0x510e_527f,
            0x9b05_688c,
            0x1f83_d9ab,
            0x5be0_cd19,
        ],
        compressed: 0,
    };

    /// Compresses the whole blocks at the start of `bytes` and returns the bytes after them.
    pub(crate) fn absorb<'b>(&mut self, bytes: &'b [u8]) -> &'b [u8] {
        let whole = bytes.len() - bytes.len() % BLOCK;
        let (blocks, rest) = bytes.split_at(whole);
        self.compress(blocks);
        rest
    }

    /// `blocks` is whole blocks; the SHA instructions where the CPU has them (`sha2` detects them).
    fn compress(&mut self, blocks: &[u8]) {
        for block in blocks.chunks_exact(BLOCK) {
            sha2::compress256(&mut self.words, std::slice::from_ref(GenericArray::from_slice(block)));
        }
        self.compressed += blocks.len() as u64;
    }

    /// The digest of the message whose first `self.compressed` bytes made this state and whose
    /// remaining bytes are `rest`.
    pub(crate) fn finish(mut self, rest: &[u8]) -> Digest {
        let tail = self.absorb(rest);
        let (last_blocks, length) = last_blocks(self.compressed, tail);
        self.compress(&last_blocks[..length]);
        Digest(self.words)
    }
}

/// A SHA-256 digest as its eight big-endian words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Digest([u32; 8]);

impl Digest {
    /// The digest's first eight bytes, all a row's `data_hash` shows.
    pub(crate) fn leading_bytes(self) -> [u8; 8] {
        let [first, second, ..] = self.0;
        let mut bytes = [0u8; 8];
        bytes[..4].copy_from_slice(&first.to_be_bytes());
        bytes[4..].copy_from_slice(&second.to_be_bytes());
        bytes
    }

    /// The whole digest, which tests compare with `sha2`'s.
    #[cfg(test)]
    pub(crate) fn to_bytes(self) -> [u8; 32] {
        let mut bytes = [0u8; 32];
        for (chunk, word) in bytes.chunks_exact_mut(4).zip(self.0) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        bytes
    }
}

/// The last one or two blocks of a message: `tail` (under a block), the message's first
/// `compressed` bytes being before it, and SHA-256's padding (a 1 bit, zeros, the message's
/// length in bits); and how many of the 128 bytes they take.
fn last_blocks(compressed: u64, tail: &[u8]) -> ([u8; 2 * BLOCK], usize) {
    debug_assert!(tail.len() < BLOCK);
    let mut blocks = [0u8; 2 * BLOCK];
    let length = if tail.len() + 1 + 8 <= BLOCK { BLOCK } else { 2 * BLOCK };
    blocks[..tail.len()].copy_from_slice(tail);
    blocks[tail.len()] = 0x80;
    let message_bits = (compressed + tail.len() as u64) * 8;
    blocks[length - 8..length].copy_from_slice(&message_bits.to_be_bytes());
    (blocks, length)
}

/// Messages compressed together by the vector path.
const LANES: usize = 16;

/// Below this many messages a batch costs the vector path as much as sixteen would, and the SHA
/// instructions are cheaper (~40 ns a block each against ~370 ns a pass).
#[cfg(target_arch = "x86_64")]
const FEWEST_FOR_LANES: usize = 9;

/// The digests of `messages`, each a state and the bytes after it, in their order.
pub(crate) fn finish_many(messages: &[(Midstate, &[u8])]) -> Vec<Digest> {
    finish_many_with(messages, Kernel::detected())
}

/// How a group of messages is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kernel {
    /// One message at a time (`sha2`: the SHA instructions, else portable code).
    OneByOne,
    /// Sixteen at a time in AVX-512's lanes; only on a CPU with AVX-512 F and BW.
    #[cfg(target_arch = "x86_64")]
    Lanes,
}

impl Kernel {
    fn detected() -> Kernel {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("avx512bw") {
            return Kernel::Lanes;
        }
        Kernel::OneByOne
    }
}

fn finish_many_with(messages: &[(Midstate, &[u8])], kernel: Kernel) -> Vec<Digest> {
    let mut digests = Vec::with_capacity(messages.len());
    for group in messages.chunks(LANES) {
        match kernel {
            #[cfg(target_arch = "x86_64")]
            Kernel::Lanes if group.len() >= FEWEST_FOR_LANES => {
                let mut words = [[0u32; 8]; LANES];
                let mut lasts = [([0u8; 2 * BLOCK], 0); LANES];
                let mut messages = [lanes::Message::default(); LANES];
                for (lane, (state, rest)) in group.iter().enumerate() {
                    let whole = rest.len() - rest.len() % BLOCK;
                    lasts[lane] = last_blocks(state.compressed + whole as u64, &rest[whole..]);
                    words[lane] = state.words;
                    messages[lane].whole_blocks = &rest[..whole];
                }
                for (message, (last, length)) in messages.iter_mut().zip(&lasts) {
                    message.last_blocks = &last[..*length];
                }
                // SAFETY: `Kernel::Lanes` is only chosen when the CPU has AVX-512 F and BW.
                unsafe { lanes::compress(&mut words, &messages) };
                digests.extend(words[..group.len()].iter().map(|words| Digest(*words)));
            }
            _ => digests.extend(group.iter().map(|(state, rest)| state.finish(rest))),
        }
    }
    digests
}

#[cfg(target_arch = "x86_64")]
mod lanes {
    //! SHA-256's compression (FIPS 180-4 §6.2.2) of sixteen messages at once, message `i` in
    //! 32-bit lane `i` of each vector. Rotations are single instructions (`vprord`), and `Ch`,
    //! `Maj` and the three-way XORs of the Σ and σ functions one ternary-logic instruction each.

    use std::arch::x86_64::{
        __m512i, _mm512_add_epi32, _mm512_loadu_si512, _mm512_mask_add_epi32, _mm512_ror_epi32,
        _mm512_set_epi8, _mm512_set1_epi32, _mm512_setzero_si512, _mm512_shuffle_epi8, _mm512_shuffle_i32x4,
        _mm512_srli_epi32, _mm512_storeu_si512, _mm512_ternarylogic_epi32, _mm512_unpackhi_epi32,
        _mm512_unpackhi_epi64, _mm512_unpacklo_epi32, _mm512_unpacklo_epi64,
    };

    use super::{BLOCK, LANES};

    /// The round constants (FIPS 180-4 §4.2.2).
    #[rustfmt::skip]
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ];

    /// `vpternlogd` truth tables: `a ^ b ^ c`, `Ch(e, f, g)`, `Maj(a, b, c)`.
    const XOR3: i32 = 0x96;
    const CHOOSE: i32 = 0xca;
    const MAJORITY: i32 = 0xe8;

    /// The blocks of one lane's message: its text's whole blocks, read where they are, then
    /// its padded last one or two. Both empty for an unused lane.
    #[derive(Clone, Copy, Default)]
    pub(super) struct Message<'m> {
        pub(super) whole_blocks: &'m [u8],
        pub(super) last_blocks: &'m [u8],
    }

    impl Message<'_> {
        fn blocks(&self) -> usize {
            (self.whole_blocks.len() + self.last_blocks.len()) / BLOCK
        }

        fn block(&self, index: usize) -> Option<&[u8]> {
            let whole = self.whole_blocks.len() / BLOCK;
            match index.checked_sub(whole) {
                None => Some(&self.whole_blocks[index * BLOCK..(index + 1) * BLOCK]),
                Some(last) => self.last_blocks.get(last * BLOCK..(last + 1) * BLOCK),
            }
        }
    }

    /// Compresses each lane's message (whole 64-byte blocks, any number) into its `states`
    /// entry.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F and BW.
    #[target_feature(enable = "avx512f,avx512bw")]
    pub(super) unsafe fn compress(states: &mut [[u32; 8]; LANES], messages: &[Message<'_>; LANES]) {
        // The vectors are filled by loops, not by `array::from_fn` or `map` with a closure:
        // those generic functions have no AVX-512, so they cannot take the closure in, and each
        // vector went through memory in an out-of-line call (the byte swap's closure and
        // `map` were a tenth of PCF's criterion bench in `perf`).
        let most_blocks = messages.iter().map(Message::blocks).max().unwrap_or(0);
        let mut state = [_mm512_setzero_si512(); 8];
        for (word, lanes) in state.iter_mut().enumerate() {
            let mut values = [0u32; LANES];
            for (value, lane_state) in values.iter_mut().zip(states.iter()) {
                *value = lane_state[word];
            }
            // SAFETY: reads the 64 bytes of `values`.
            *lanes = unsafe { _mm512_loadu_si512(values.as_ptr().cast()) };
        }
        let no_block = [0u8; BLOCK];
        for block in 0..most_blocks {
            let mut active = 0u16;
            let mut rows = [_mm512_setzero_si512(); LANES];
            for (lane, (row, message)) in rows.iter_mut().zip(messages).enumerate() {
                let bytes = match message.block(block) {
                    Some(bytes) => {
                        active |= 1 << lane;
                        bytes
                    }
                    None => &no_block,
                };
                // SAFETY: `bytes` is 64 bytes long.
                *row = unsafe { _mm512_loadu_si512(bytes.as_ptr().cast()) };
            }
            let compressed = compress_block(state, big_endian_words(transpose(rows)));
            for (word, new) in state.iter_mut().zip(compressed) {
                *word = _mm512_mask_add_epi32(*word, active, *word, new);
            }
        }
        for (word, lanes) in state.iter().enumerate() {
            let mut values = [0u32; LANES];
            // SAFETY: writes the 64 bytes of `values`.
            unsafe { _mm512_storeu_si512(values.as_mut_ptr().cast(), *lanes) };
            for (lane, value) in values.into_iter().enumerate() {
                states[lane][word] = value;
            }
        }
    }

    /// The 64 rounds over one block of each lane: the working variables after them, to be
    /// added to `state`.
    #[target_feature(enable = "avx512f")]
    fn compress_block(state: [__m512i; 8], mut schedule: [__m512i; 16]) -> [__m512i; 8] {
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = state;
        for (round, constant) in K.iter().enumerate() {
            let word = if round < 16 {
                schedule[round]
            } else {
                let early = schedule[(round - 15) % 16];
                let late = schedule[(round - 2) % 16];
                let sigma0 = _mm512_ternarylogic_epi32::<XOR3>(
                    _mm512_ror_epi32::<7>(early),
                    _mm512_ror_epi32::<18>(early),
                    _mm512_srli_epi32::<3>(early),
                );
                let sigma1 = _mm512_ternarylogic_epi32::<XOR3>(
                    _mm512_ror_epi32::<17>(late),
                    _mm512_ror_epi32::<19>(late),
                    _mm512_srli_epi32::<10>(late),
                );
                let word = _mm512_add_epi32(
                    _mm512_add_epi32(schedule[round % 16], sigma0),
                    _mm512_add_epi32(schedule[(round - 7) % 16], sigma1),
                );
                schedule[round % 16] = word;
                word
            };
            let big_sigma1 = _mm512_ternarylogic_epi32::<XOR3>(
                _mm512_ror_epi32::<6>(e),
                _mm512_ror_epi32::<11>(e),
                _mm512_ror_epi32::<25>(e),
            );
            let choose = _mm512_ternarylogic_epi32::<CHOOSE>(e, f, g);
            let constant_and_word = _mm512_add_epi32(word, _mm512_set1_epi32(*constant as i32));
            let temporary1 = _mm512_add_epi32(
                _mm512_add_epi32(h, big_sigma1),
                _mm512_add_epi32(choose, constant_and_word),
            );
            let big_sigma0 = _mm512_ternarylogic_epi32::<XOR3>(
                _mm512_ror_epi32::<2>(a),
                _mm512_ror_epi32::<13>(a),
                _mm512_ror_epi32::<22>(a),
            );
            let majority = _mm512_ternarylogic_epi32::<MAJORITY>(a, b, c);
            h = g;
            g = f;
            f = e;
            e = _mm512_add_epi32(d, temporary1);
            d = c;
            c = b;
            b = a;
            a = _mm512_add_epi32(temporary1, _mm512_add_epi32(big_sigma0, majority));
        }
        [a, b, c, d, e, f, g, h]
    }

    /// The sixteen 32-bit words of each lane's block, read big-endian.
    #[target_feature(enable = "avx512f,avx512bw")]
    fn big_endian_words(words: [__m512i; 16]) -> [__m512i; 16] {
        #[rustfmt::skip]
        let byte_swap = _mm512_set_epi8(
            12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3,
            12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3,
            12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3,
            12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3,
        );
        let mut swapped = words;
        for word in &mut swapped {
            *word = _mm512_shuffle_epi8(*word, byte_swap);
        }
        swapped
    }

    /// Turns sixteen rows (one lane's block each) into sixteen columns (one word of every
    /// lane each): 32-bit, then 64-bit interleaves within 128-bit quarters, then two rounds of
    /// quarter shuffles.
    #[target_feature(enable = "avx512f")]
    fn transpose(rows: [__m512i; 16]) -> [__m512i; 16] {
        let mut pairs = [_mm512_setzero_si512(); 16];
        for i in 0..8 {
            pairs[2 * i] = _mm512_unpacklo_epi32(rows[2 * i], rows[2 * i + 1]);
            pairs[2 * i + 1] = _mm512_unpackhi_epi32(rows[2 * i], rows[2 * i + 1]);
        }
        // quads[4i + k] holds, in quarter q, word 4q + k of rows 4i..4i + 3.
        let mut quads = [_mm512_setzero_si512(); 16];
        for i in 0..4 {
            quads[4 * i] = _mm512_unpacklo_epi64(pairs[4 * i], pairs[4 * i + 2]);
            quads[4 * i + 1] = _mm512_unpackhi_epi64(pairs[4 * i], pairs[4 * i + 2]);
            quads[4 * i + 2] = _mm512_unpacklo_epi64(pairs[4 * i + 1], pairs[4 * i + 3]);
            quads[4 * i + 3] = _mm512_unpackhi_epi64(pairs[4 * i + 1], pairs[4 * i + 3]);
        }
        let mut halves = [_mm512_setzero_si512(); 16];
        for i in 0..2 {
            for k in 0..4 {
                halves[8 * i + k] = _mm512_shuffle_i32x4::<0x88>(quads[8 * i + k], quads[8 * i + 4 + k]);
                halves[8 * i + 4 + k] = _mm512_shuffle_i32x4::<0xdd>(quads[8 * i + k], quads[8 * i + 4 + k]);
            }
        }
        let mut columns = [_mm512_setzero_si512(); 16];
        for k in 0..4 {
            columns[k] = _mm512_shuffle_i32x4::<0x88>(halves[k], halves[8 + k]);
            columns[8 + k] = _mm512_shuffle_i32x4::<0xdd>(halves[k], halves[8 + k]);
            columns[4 + k] = _mm512_shuffle_i32x4::<0x88>(halves[4 + k], halves[12 + k]);
            columns[12 + k] = _mm512_shuffle_i32x4::<0xdd>(halves[4 + k], halves[12 + k]);
        }
        columns
    }
}

#[cfg(test)]
mod tests {
    use sha2::{Digest as _, Sha256};

    use super::*;

    /// Deterministic bytes: a linear congruential sequence from `seed`.
    fn message(seed: u64, length: usize) -> Vec<u8> {
        let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (0..length)
            .map(|_| {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                (state >> 56) as u8
            })
            .collect()
    }

    fn expected(message: &[u8]) -> [u8; 32] {
        Sha256::digest(message).into()
    }

    /// Each message split after `split(i)` whole blocks into a state and the rest.
    fn digests_of(messages: &[Vec<u8>], kernel: Kernel, split: impl Fn(usize) -> usize) -> Vec<[u8; 32]> {
        let states: Vec<(Midstate, &[u8])> = messages
            .iter()
            .enumerate()
            .map(|(index, message)| {
                let mut state = Midstate::INITIAL;
                let cut = (split(index) * BLOCK).min(message.len() - message.len() % BLOCK);
                let rest = state.absorb(&message[..cut]);
                assert!(rest.is_empty());
                (state, &message[cut..])
            })
            .collect();
        finish_many_with(&states, kernel).into_iter().map(Digest::to_bytes).collect()
    }

    fn kernels() -> Vec<Kernel> {
        let mut kernels = vec![Kernel::OneByOne];
        if Kernel::detected() != Kernel::OneByOne {
            kernels.push(Kernel::detected());
        }
        kernels
    }

    #[test]
    fn the_empty_message_and_abc_give_the_standard_digests() {
        // FIPS 180-4's examples (NIST's SHA-256 example values).
        let messages = vec![Vec::new(), b"abc".to_vec()];
        for kernel in kernels() {
            let digests = digests_of(&messages, kernel, |_| 0);
            assert_eq!(
                digests[0],
                [
                    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9,
                    0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52,
                    0xb8, 0x55
                ]
            );
            assert_eq!(
                digests[1],
                [
                    0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22,
                    0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00,
                    0x15, 0xad
                ]
            );
        }
    }

    #[test]
    fn batches_of_every_size_and_mixed_lengths_match_sha2() {
        // Lengths around the padding's edges (55/56 bytes fit or spill a block) and rows of
        // several blocks, in batches that fill the lanes, leave some empty, or spill over 16.
        let lengths = [0, 1, 55, 56, 63, 64, 65, 119, 120, 447, 448, 520, 700, 1_000];
        for count in [1, 2, 8, 9, 15, 16, 17, 31, 33] {
            let messages: Vec<Vec<u8>> =
                (0..count).map(|index| message(index as u64, lengths[index % lengths.len()])).collect();
            let expected: Vec<[u8; 32]> = messages.iter().map(|message| expected(message)).collect();
            for kernel in kernels() {
                assert_eq!(digests_of(&messages, kernel, |_| 0), expected, "{count} messages, {kernel:?}");
                // Resumed from states after some whole blocks, different per message.
                assert_eq!(digests_of(&messages, kernel, |index| index % 4), expected, "{count}, {kernel:?}");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn any_batch_of_any_messages_matches_sha2(
            messages in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..700), 1..40),
            blocks_before in 0usize..4,
        ) {
            let expected: Vec<[u8; 32]> = messages.iter().map(|message| expected(message)).collect();
            for kernel in kernels() {
                let digests = digests_of(&messages, kernel, |index| (index + blocks_before) % 4);
                proptest::prop_assert_eq!(&digests, &expected);
            }
        }
    }

    #[test]
    fn a_state_finished_alone_matches_sha2() {
        let message = message(7, 300);
        let mut state = Midstate::INITIAL;
        let rest = state.absorb(&message);
        assert_eq!(rest.len(), 300 - 256);
        assert_eq!(state.finish(rest).to_bytes(), expected(&message));
    }
}
