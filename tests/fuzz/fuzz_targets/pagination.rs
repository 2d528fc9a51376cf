#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| cerebras_batch_fuzz::pagination(data));
