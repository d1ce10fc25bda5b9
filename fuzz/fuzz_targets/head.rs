//! Arbitrary bytes as a vault head file: the parser returns an error, never panics.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| faceguard::vault::fuzzing::head(data));
