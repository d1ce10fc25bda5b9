//! Arbitrary bytes as a vault keys file: the parser returns an error, never panics.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| faceguard::vault::fuzzing::keys(data));
