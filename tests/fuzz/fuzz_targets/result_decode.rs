#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| cerebras_batch_fuzz::result_decode(data));
