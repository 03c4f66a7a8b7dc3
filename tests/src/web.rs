//! A built web client made up for the static-serving tests: an `index.html`, content-hashed
//! script, WebAssembly and stylesheet files, and compressed siblings of some of them.
use std::io::Write;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

pub const INDEX: &str = "<!doctype html><html><head><title>fixture inbox</title>\
    <script type=\"module\" src=\"/app-3f9a0c1d.js\"></script></head><body></body></html>\n";
/// A content-hashed script with a gzip and a brotli sibling.
pub const SCRIPT: &str = "/app-3f9a0c1d.js";
/// A content-hashed WebAssembly module with a gzip sibling.
pub const WASM: &str = "/app_bg-0a1b2c3d4e5f.wasm";
/// A content-hashed stylesheet without a compressed sibling.
pub const STYLE: &str = "/style-a1b2c3d4.css";
/// An unhashed file.
pub const ICON: &str = "/favicon.ico";
/// Bytes standing for a brotli stream: the server sends the sibling as it is.
pub const FAKE_BROTLI: &[u8] = b"brotli stand-in";

/// The fixture: `root/dist` is the client; `root/secret.txt` lies beside it, where no
/// request may reach.
pub struct WebFixture {
    root: TempDir,
}

impl WebFixture {
    pub fn new() -> Self {
        let root = tempfile::tempdir().expect("creating the fixture directory");
        let dist = root.path().join("dist");
        std::fs::create_dir(&dist).expect("creating dist");
        let write = |name: &str, bytes: &[u8]| {
            std::fs::write(dist.join(name.trim_start_matches('/')), bytes)
                .unwrap_or_else(|error| panic!("writing {name}: {error}"));
        };
        write("index.html", INDEX.as_bytes());
        write(SCRIPT, &Self::script());
        write(&format!("{SCRIPT}.gz"), &gzip(&Self::script()));
        write(&format!("{SCRIPT}.br"), FAKE_BROTLI);
        write(WASM, &Self::wasm());
        write(&format!("{WASM}.gz"), &gzip(&Self::wasm()));
        write(STYLE, b"body { margin: 0 }\n");
        write(ICON, b"\0\0\x01\0");
        std::fs::write(root.path().join("secret.txt"), "not for the web")
            .expect("writing secret.txt");
        Self { root }
    }

    /// The directory to give `MF_WEB_DIR`.
    pub fn dir(&self) -> PathBuf {
        self.root.path().join("dist")
    }

    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// The script's bytes (long enough that gzip makes it smaller).
    pub fn script() -> Vec<u8> {
        "export default function init() { return 42; }\n"
            .repeat(40)
            .into_bytes()
    }

    /// A WebAssembly module's bytes: the magic number and version, then padding.
    pub fn wasm() -> Vec<u8> {
        let mut bytes = b"\0asm\x01\0\0\0".to_vec();
        bytes.extend(std::iter::repeat_n(0u8, 2048));
        bytes
    }
}

impl Default for WebFixture {
    fn default() -> Self {
        Self::new()
    }
}

/// `bytes` gzipped.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).expect("gzipping");
    encoder.finish().expect("gzipping")
}

/// `bytes` gunzipped.
pub fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut decoder = flate2::write::GzDecoder::new(&mut out);
    decoder.write_all(bytes).expect("gunzipping");
    decoder.finish().expect("gunzipping");
    out
}
