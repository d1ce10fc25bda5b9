//! Input bombs allocate nothing of their claimed size: every allocation of this test binary
//! is counted, and the peak while an image bomb is decoded, an endless file is read, or a
//! vault with a planted 8 GiB file is opened, stays within a few MiB.
//!
//! A binary of its own, with one test, so that nothing else allocates while it measures.

use std::alloc::{GlobalAlloc, Layout, System};
use std::fs::{self, OpenOptions};
use std::io::Cursor;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use faceguard::vault::{Vault, VaultError, VaultKey};
use faceguard::{decode_bytes, decode_file, decode_file_with, DecodeLimits, Error, ImageError};

/// The system allocator, counting the bytes live now and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed on unchanged to the system allocator, which upholds the
// `GlobalAlloc` contract; the counters are only read, never used to allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), SeqCst) + layout.size();
        PEAK.fetch_max(live, SeqCst);
        // SAFETY: the caller's layout, as `GlobalAlloc::alloc` requires.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), SeqCst) + layout.size();
        PEAK.fetch_max(live, SeqCst);
        // SAFETY: the caller's layout, as `GlobalAlloc::alloc_zeroed` requires.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), SeqCst);
        // SAFETY: `ptr` was allocated by `System` with `layout` (every allocation goes there).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Counted as the new block allocated before the old one is freed, its real peak.
        let live = LIVE.fetch_add(new_size, SeqCst) + new_size;
        PEAK.fetch_max(live, SeqCst);
        LIVE.fetch_sub(layout.size(), SeqCst);
        // SAFETY: `ptr` and `layout` as the caller got them from `System`, as required.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The most bytes `f` had allocated at once beyond what was live before it.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = LIVE.load(SeqCst);
    PEAK.store(before, SeqCst);
    let out = f();
    (out, PEAK.load(SeqCst) - before)
}

const MIB: usize = 1 << 20;

fn crc32(bytes: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in bytes {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// A real 4×4 PNG whose header (checksum fixed) claims `width` × `height`.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image::RgbImage::new(4, 4)
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    let mut png = out.into_inner();
    png[16..20].copy_from_slice(&width.to_be_bytes());
    png[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

/// A real 4×4 lossless WebP with an EXIF chunk whose length field says `len`.
fn webp_with_exif_claiming(len: u32) -> Vec<u8> {
    use image::ImageEncoder;
    let mut webp = Vec::new();
    let mut encoder = image::codecs::webp::WebPEncoder::new_lossless(&mut webp);
    encoder
        .set_exif_metadata(b"II*\0\x08\0\0\0\0\0".to_vec())
        .unwrap();
    encoder
        .write_image(&[0; 48], 4, 4, image::ExtendedColorType::Rgb8)
        .unwrap();
    let at = webp
        .windows(4)
        .position(|w| w == b"EXIF")
        .expect("an EXIF chunk");
    webp[at + 4..at + 8].copy_from_slice(&len.to_le_bytes());
    webp
}

#[test]
fn input_bombs_allocate_nothing_of_their_claimed_size() {
    // 12000 × 12000 RGB is 412 MiB: under the `image` crate's own 512 MiB default, so before
    // the decode budget it was allocated in full (then the missing pixel data was noticed).
    for (w, h) in [(100_000, 100_000), (12_000, 12_000), (8192, 4097)] {
        let bomb = png_claiming(w, h);
        let (result, peak) = peak_of(|| decode_bytes(&bomb));
        assert!(
            matches!(result, Err(ImageError::TooManyPixels { .. })),
            "{w}x{h}: {result:?}"
        );
        assert!(peak < MIB, "{w}x{h}: {} KiB allocated", peak >> 10);
    }

    // A WebP of a few dozen bytes whose EXIF chunk claims 4 GiB: the orientation is read
    // within the input, never into a buffer of the claimed size.
    let bomb = webp_with_exif_claiming(0xFFFF_FFF0);
    let (result, peak) = peak_of(|| decode_bytes(&bomb).map(|i| i.width()));
    assert!(
        peak < MIB,
        "EXIF bomb ({result:?}): {} KiB allocated",
        peak >> 10
    );

    // A file that never ends is read no further than the budget.
    #[cfg(unix)]
    {
        let limits = DecodeLimits {
            max_file_bytes: 4 * MIB as u64,
            ..DecodeLimits::default()
        };
        let (result, peak) = peak_of(|| decode_file_with("/dev/zero", &limits));
        assert!(
            matches!(result, Err(ImageError::FileTooLarge { .. })),
            "{result:?}"
        );
        assert!(peak < 9 * MIB, "/dev/zero: {} KiB allocated", peak >> 10);
    }

    let dir =
        std::env::temp_dir().join(format!("faceguard-bomb-allocations-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();

    // An 8 GiB sparse image file.
    let sparse = dir.join("huge.png");
    fs::write(&sparse, png_claiming(64, 64)).unwrap();
    OpenOptions::new()
        .write(true)
        .open(&sparse)
        .unwrap()
        .set_len(8 << 30)
        .unwrap();
    let (result, peak) = peak_of(|| decode_file(&sparse));
    assert!(
        matches!(result, Err(ImageError::FileTooLarge { .. })),
        "{result:?}"
    );
    assert!(peak < MIB, "sparse image: {} KiB allocated", peak >> 10);

    // A vault with an 8 GiB sparse journal.
    let key = || VaultKey::from_bytes(&[7; 32]).unwrap();
    let vault_dir = dir.join("vault");
    drop(Vault::create(&vault_dir, key()).unwrap());
    OpenOptions::new()
        .write(true)
        .open(vault_dir.join("journal"))
        .unwrap()
        .set_len(8 << 30)
        .unwrap();
    let (result, peak) = peak_of(|| Vault::open(&vault_dir, key()).map(|_| ()));
    assert!(
        matches!(result, Err(Error::Vault(VaultError::TooLarge { .. }))),
        "{result:?}"
    );
    assert!(peak < MIB, "sparse journal: {} KiB allocated", peak >> 10);

    fs::remove_dir_all(&dir).unwrap();
}
