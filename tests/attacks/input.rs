//! Input bombs: an image or a vault file that claims more than it is must be refused from its
//! header or its length, before anything of the claimed size is allocated or read, with a
//! typed error; and a vault directory has one writer, however it is opened.

use std::fs::{self, OpenOptions};
use std::io::Cursor;
use std::path::{Path, PathBuf};

use faceguard::vault::{DirStorage, Vault, VaultConfig, VaultError, VaultKey};
use faceguard::{
    decode_bytes, decode_bytes_with, decode_file, decode_file_with, DecodeLimits, Error,
    ImageError, ImageView,
};

/// A directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "faceguard-attacks-input-{tag}-{}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

// ---- crafted images ---------------------------------------------------------------------

fn encoded(format: image::ImageFormat, width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 7) as u8, (y * 13) as u8, ((x + y) * 3) as u8])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

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
    let mut png = encoded(image::ImageFormat::Png, 4, 4);
    assert_eq!(&png[12..16], b"IHDR");
    png[16..20].copy_from_slice(&width.to_be_bytes());
    png[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

/// A real 4×4 BMP whose header claims `width` × `height`.
fn bmp_claiming(width: i32, height: i32) -> Vec<u8> {
    let mut bmp = encoded(image::ImageFormat::Bmp, 4, 4);
    assert_eq!(&bmp[..2], b"BM");
    bmp[18..22].copy_from_slice(&width.to_le_bytes());
    bmp[22..26].copy_from_slice(&height.to_le_bytes());
    bmp
}

/// A real 8×8 baseline JPEG whose frame header claims `width` × `height`.
fn jpeg_claiming(width: u16, height: u16) -> Vec<u8> {
    let mut jpeg = encoded(image::ImageFormat::Jpeg, 8, 8);
    let sof = jpeg
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("a baseline frame header");
    jpeg[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    jpeg
}

/// A real 4×4 lossless WebP whose header claims 16383 × 16383 (the largest size the decoder
/// reads from a lossless header).
fn webp_claiming_16383_squared() -> Vec<u8> {
    let mut webp = encoded(image::ImageFormat::WebP, 4, 4);
    assert_eq!(&webp[12..16], b"VP8L");
    assert_eq!(webp[20], 0x2F);
    // 14 bits width - 1, 14 bits height - 1, then alpha and version.
    let mut bits = u32::from_le_bytes(webp[21..25].try_into().unwrap());
    bits = (bits & !((1 << 28) - 1)) | 16_382 | (16_382 << 14);
    webp[21..25].copy_from_slice(&bits.to_le_bytes());
    webp
}

fn is_too_many_pixels(e: &ImageError, w: u32, h: u32) -> bool {
    matches!(e, ImageError::TooManyPixels { width, height, .. } if (*width, *height) == (w, h))
}

#[test]
fn image_headers_claiming_huge_sizes_are_refused_before_decoding() {
    let cases: Vec<(&str, Vec<u8>, u32, u32)> = vec![
        ("PNG", png_claiming(100_000, 100_000), 100_000, 100_000),
        ("BMP", bmp_claiming(60_000, 60_000), 60_000, 60_000),
        ("JPEG", jpeg_claiming(60_000, 60_000), 60_000, 60_000),
        ("WebP", webp_claiming_16383_squared(), 16_383, 16_383),
        // Every side within ImageView::MAX_SIDE, the pixel count over the default budget.
        ("PNG 16384²", png_claiming(16_384, 16_384), 16_384, 16_384),
        ("PNG 12000²", png_claiming(12_000, 12_000), 12_000, 12_000),
    ];
    for (what, bytes, w, h) in cases {
        assert!(
            bytes.len() < 1024,
            "{what}: the bomb is {} bytes",
            bytes.len()
        );
        let started = std::time::Instant::now();
        let err = decode_bytes(&bytes).unwrap_err();
        assert!(is_too_many_pixels(&err, w, h), "{what}: {err:?}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "{what}: refusing took {:?}",
            started.elapsed()
        );
        let text = err.to_string();
        assert!(
            text.contains("DecodeLimits"),
            "{what}: says what to do: {text}"
        );
    }
}

#[test]
fn a_header_just_over_the_pixel_budget_is_refused_and_one_at_it_decodes() {
    let limits = DecodeLimits {
        max_pixels: 32 * 24,
        ..DecodeLimits::default()
    };
    let at = encoded(image::ImageFormat::Png, 32, 24);
    let img = decode_bytes_with(&at, &limits).expect("an image at the budget decodes");
    assert_eq!((img.width(), img.height()), (32, 24));
    for format in [
        image::ImageFormat::Png,
        image::ImageFormat::Jpeg,
        image::ImageFormat::Bmp,
        image::ImageFormat::WebP,
    ] {
        let over = encoded(format, 32, 25);
        let err = decode_bytes_with(&over, &limits).unwrap_err();
        assert!(
            matches!(
                err,
                ImageError::TooManyPixels {
                    width: 32,
                    height: 25,
                    max_pixels: 768
                }
            ),
            "{format:?}: {err:?}"
        );
        assert!(decode_bytes_with(&encoded(format, 32, 24), &limits).is_ok());
    }
}

#[test]
fn the_side_limit_is_configurable() {
    let limits = DecodeLimits {
        max_side: 20,
        ..DecodeLimits::default()
    };
    let err = decode_bytes_with(&encoded(image::ImageFormat::Png, 21, 4), &limits).unwrap_err();
    assert!(
        matches!(
            err,
            ImageError::TooLarge {
                width: 21,
                height: 4,
                max: 20
            }
        ),
        "{err:?}"
    );
    assert!(decode_bytes_with(&encoded(image::ImageFormat::Png, 20, 20), &limits).is_ok());
}

#[test]
fn the_default_budget_fits_a_camera_and_is_what_the_plain_functions_use() {
    let d = DecodeLimits::default();
    assert_eq!(d, DecodeLimits::DEFAULT);
    // A few tens of megapixels: a 4K frame and a 24-megapixel sensor fit, a bomb does not.
    assert!(
        d.max_pixels >= 6000 * 4000 && d.max_pixels <= 64_000_000,
        "{d:?}"
    );
    assert_eq!(d.max_side, ImageView::MAX_SIDE);
    let png = png_claiming(8192, 4097);
    assert!(8192 * 4097 > d.max_pixels, "{d:?}");
    assert!(matches!(
        decode_bytes(&png),
        Err(ImageError::TooManyPixels { max_pixels, .. }) if max_pixels == d.max_pixels
    ));
    assert!(matches!(
        decode_bytes_with(&png, &d),
        Err(ImageError::TooManyPixels { .. })
    ));
}

#[test]
fn a_file_over_the_byte_budget_is_refused_before_it_is_read() {
    let dir = TempDir::new("bytes");
    // 8 GiB that take no disk: reading it would allocate 8 GiB.
    let sparse = dir.path().join("huge.png");
    fs::write(&sparse, png_claiming(64, 64)).unwrap();
    OpenOptions::new()
        .write(true)
        .open(&sparse)
        .unwrap()
        .set_len(8 << 30)
        .unwrap();
    let err = decode_file(&sparse).unwrap_err();
    assert!(
        matches!(err, ImageError::FileTooLarge { len, max, .. }
            if len == 8 << 30 && max == DecodeLimits::DEFAULT.max_file_bytes),
        "{err:?}"
    );
    assert!(err.to_string().contains("huge.png"), "{err}");

    // Just over and just at a configured budget.
    let small = dir.path().join("small.png");
    let bytes = encoded(image::ImageFormat::Png, 16, 16);
    fs::write(&small, &bytes).unwrap();
    let n = bytes.len() as u64;
    let tight = |max_file_bytes| DecodeLimits {
        max_file_bytes,
        ..DecodeLimits::default()
    };
    assert!(matches!(
        decode_file_with(&small, &tight(n - 1)),
        Err(ImageError::FileTooLarge { len, max, .. }) if len == n && max == n - 1
    ));
    assert_eq!(decode_file_with(&small, &tight(n)).unwrap().width(), 16);
    // decode_bytes holds encoded bytes to the same budget.
    assert!(matches!(
        decode_bytes_with(&bytes, &tight(n - 1)),
        Err(ImageError::FileTooLarge { .. })
    ));
}

#[cfg(unix)]
#[test]
fn a_file_that_grows_while_read_is_read_no_further_than_the_budget() {
    // /dev/zero reports a length of 0 and never ends: only a capped read stops.
    let limits = DecodeLimits {
        max_file_bytes: 1 << 20,
        ..DecodeLimits::default()
    };
    let err = decode_file_with("/dev/zero", &limits).unwrap_err();
    assert!(
        matches!(err, ImageError::FileTooLarge { max, .. } if max == 1 << 20),
        "{err:?}"
    );
}

// ---- vault files ------------------------------------------------------------------------

fn key() -> VaultKey {
    VaultKey::from_bytes(&[0x5A; 32]).unwrap()
}

/// Length and first bytes of every file in `dir`.
fn snapshot(dir: &Path) -> Vec<(String, u64, Vec<u8>)> {
    let mut files: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let len = fs::metadata(&path).unwrap().len();
            let mut head = vec![0u8; len.min(4096) as usize];
            std::io::Read::read_exact(&mut fs::File::open(&path).unwrap(), &mut head).unwrap();
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                len,
                head,
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn sparse_8_gib_vault_files_are_refused_from_their_length() {
    // The first key file (bucket 0 of key epoch 0), as the vault's format names it.
    let key_file = "keys.0.00".to_string();
    for name in ["journal", "HEAD", key_file.as_str()] {
        let dir = TempDir::new(&format!("sparse-{name}"));
        let vault_dir = dir.path().join("vault");
        drop(Vault::create(&vault_dir, key()).unwrap());
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(vault_dir.join(name))
            .unwrap()
            .set_len(8 << 30)
            .unwrap();
        let before = snapshot(&vault_dir);
        let started = std::time::Instant::now();
        let Err(err) = Vault::open(&vault_dir, key()) else {
            panic!("{name}: a vault with an 8 GiB {name} opened");
        };
        assert!(
            matches!(&err, Error::Vault(VaultError::TooLarge { file, len, .. })
                if file == name && *len == 8 << 30),
            "{name}: {err:?}"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{name}: refusing took {:?}",
            started.elapsed()
        );
        // Reading the audit log refuses it the same way (it reads no key file).
        match (name, Vault::read_audit(&vault_dir, &key())) {
            ("HEAD", Err(Error::Vault(VaultError::TooLarge { .. }))) => {}
            ("journal", Ok(log)) => assert!(
                matches!(log.problem, Some(VaultError::TooLarge { .. })) && log.entries.is_empty(),
                "{:?}",
                log.problem
            ),
            (_, Ok(log)) if name == key_file => assert!(log.problem.is_none()),
            (_, other) => panic!("{name}: read_audit gave {:?}", other.map(|l| l.problem)),
        }
        assert_eq!(
            snapshot(&vault_dir),
            before,
            "{name}: the files are untouched"
        );
    }
}

#[test]
fn a_vault_directory_has_one_writer_however_it_is_opened() {
    let dir = TempDir::new("one-writer");
    drop(Vault::create(dir.path(), key()).unwrap());
    let clock = VaultConfig::new;
    let (first, _) = Vault::open_in(
        Box::new(DirStorage::existing(dir.path()).unwrap()),
        key(),
        clock(),
    )
    .unwrap();
    // A second storage on the same directory cannot even be made while the first lives.
    assert!(matches!(
        DirStorage::existing(dir.path()),
        Err(VaultError::Busy { .. })
    ));
    assert!(matches!(
        DirStorage::create(dir.path()),
        Err(VaultError::Busy { .. })
    ));
    assert!(matches!(
        Vault::open(dir.path(), key()),
        Err(Error::Vault(VaultError::Busy { .. }))
    ));
    drop(first);
    let (again, _) = Vault::open_in(
        Box::new(DirStorage::existing(dir.path()).unwrap()),
        key(),
        clock(),
    )
    .expect("the lock goes with the vault");
    drop(again);
}
